"""The shape of a step manifest, checked once when it is read.

A store may be shared, so a manifest is untrusted input: anything that is not exactly the
shape amlrun writes (hashes, sizes and modes of the right types, relative paths that stay
inside their output, no file that is also a folder) is refused here, and every caller after
this point may index into it without guarding against tracebacks.
"""

from __future__ import annotations

import json
import re
import sys

from amlrun.errors import AmlrunError

MANIFEST_VERSION = 1
#: a stored tree: relative path ("" for a single file) -> [content hash, size, mode]
Entries = dict[str, list]
_HASH = re.compile(r"[0-9a-f]{32}")
_warned: set[str] = set()


class BadManifest(AmlrunError):
    """A manifest that does not have the shape amlrun writes."""


def is_blob_name(name: object) -> bool:
    return isinstance(name, str) and _HASH.fullmatch(name) is not None


def warn(message: str, subject: str | None = None) -> None:
    """One line on stderr per ``subject`` (default: the message) and process.

    The store has no UI of its own; the engine asks about a key more than once per run, and
    one problem deserves one line.
    """
    subject = subject or message
    if subject not in _warned:
        _warned.add(subject)
        print(f"warning: {message}", file=sys.stderr, flush=True)


def restore_mode(mode: int) -> int:
    """A stored file comes back read-only, executable or not; never setuid, never writable."""
    return 0o555 if mode & 0o100 else 0o444


def parse_manifest(data: bytes, key: str | None = None) -> dict:
    """The manifest in ``data`` (of step ``key``, if given); BadManifest says what is wrong."""
    try:
        manifest = json.loads(data)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        raise BadManifest("unreadable manifest (truncated, corrupt or another version)") from None
    if not isinstance(manifest, dict) or manifest.get("v") != MANIFEST_VERSION:
        raise BadManifest("unreadable manifest (truncated, corrupt or another version)")
    if key is not None and manifest.get("key") != key:
        raise BadManifest(f"manifest is stored for key {key} but names key {manifest.get('key')!r}")
    check_manifest(manifest)
    return manifest


def check_manifest(manifest: dict) -> None:
    """Raise BadManifest unless ``manifest`` has exactly the shape amlrun writes."""
    outputs = manifest.get("outputs")
    if not isinstance(outputs, dict):
        raise BadManifest("malformed manifest: 'outputs' is not a mapping")
    for name, out in outputs.items():
        if not isinstance(out, dict) or not isinstance(out.get("entries"), dict):
            raise BadManifest(f"malformed manifest: output {name!r} has no 'entries' mapping")
        if not isinstance(out.get("is_file"), bool):
            raise BadManifest(f"malformed manifest: output {name!r}: 'is_file' is not a boolean")
        _check_entries(name, out["entries"], out["is_file"])
    log = manifest.get("log")
    if log not in (None, "") and not is_blob_name(log):
        raise BadManifest(f"malformed manifest: log {log!r} is not a content hash")


def _check_entries(name: str, entries: dict, is_file: bool) -> None:
    where = f"malformed manifest: output {name!r}"
    if is_file and list(entries) != [""]:
        raise BadManifest(f"{where}: a file has the single entry '', not {sorted(entries)[:3]}")
    for rel, entry in entries.items():
        if not is_file:
            safe_rel(rel, where)
        if not isinstance(entry, list) or len(entry) != 3:
            raise BadManifest(f"{where}: entry {rel!r} is not [hash, size, mode]")
        h, size, mode = entry
        if not is_blob_name(h):
            raise BadManifest(f"{where}: entry {rel!r} has no content hash ({h!r})")
        if type(size) is not int or size < 0:
            raise BadManifest(f"{where}: entry {rel!r} has size {size!r}, not an int >= 0")
        if type(mode) is not int or not 0 <= mode <= 0o7777:
            raise BadManifest(f"{where}: entry {rel!r} has mode {mode!r}, not a file mode")
    folders = {rel.rsplit("/", 1)[0] for rel in entries if "/" in rel}
    parents = {f.rsplit("/", i)[0] for f in folders for i in range(f.count("/") + 1)}
    clash = sorted(parents & set(entries))
    if clash:
        raise BadManifest(f"{where}: {clash[0]!r} is both a file and a folder")


def safe_rel(rel: object, where: str = "stored tree") -> str:
    """A relative path that cannot write outside its destination (no .., /, \\ or NUL)."""
    if (
        not isinstance(rel, str)
        or not rel
        or rel.startswith("/")
        or "\\" in rel
        or "\0" in rel
        or any(p in ("", ".", "..") for p in rel.split("/"))
    ):
        raise BadManifest(f"{where}: unsafe path {rel!r}")
    return rel


def referenced_blobs(manifest: dict) -> dict[str, str]:
    """Blob hash -> what needs it (for messages): every output file, and the log."""
    check_manifest(manifest)
    refs: dict[str, str] = {}
    for name, out in manifest["outputs"].items():
        for rel, (h, _size, _mode) in out["entries"].items():
            refs.setdefault(h, f"output '{name}' {rel or '(file)'}")
    log = manifest.get("log")
    if log:
        refs.setdefault(log, "log")
    return refs


def blob_sizes(manifest: dict) -> dict[str, int | None]:
    """Blob hash -> the size the manifest promises (None for the log, whose size is unknown)."""
    sizes: dict[str, int | None] = {}
    for out in manifest["outputs"].values():
        for h, size, _mode in out["entries"].values():
            sizes[h] = size
    if manifest.get("log"):
        sizes.setdefault(manifest["log"], None)
    return sizes


def missing_outputs(manifest: dict, declared: list[str] | tuple[str, ...]) -> list[str]:
    """The outputs a step's module declares that ``manifest`` lacks."""
    return [name for name in declared if name not in manifest["outputs"]]


def manifest_problems(store, rel: str, data: bytes | None, blobs: set[str]) -> list[str]:
    """What is wrong with the manifest stored at ``rel`` (``blobs``: hashes known present)."""
    try:
        if data is None:
            raise BadManifest("unreadable manifest (truncated, corrupt or another version)")
        key = rel.removeprefix("steps/").removesuffix(".json")
        refs = referenced_blobs(parse_manifest(data, key))
    except BadManifest as exc:
        return [f"{rel}: {exc}"]
    return [
        f"{rel}: {what} needs blob {h}, which is missing"
        for h, what in refs.items()
        if h not in blobs and not store.has_blob(h)
    ]
