"""What every store does: content-addressed blobs, and step manifests that point at them.

Layout (DESIGN.md, "The store")::

    cas/<ab>/<hash>      immutable blobs named by their xxh3_128 content hash
    steps/<key>.json     one manifest per step key

Blobs are written before the manifest naming them and every write lands under its final name
in one step (rename or atomic put), so a manifest that can be read points at data that is
there. The subclasses only say how bytes move; the rules live here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

from amlrun.errors import AmlrunError

if TYPE_CHECKING:
    from amlrun.backends.job import Entries
    from amlrun.hashing import StatCache

MANIFEST_VERSION = 1
_HASH = re.compile(r"[0-9a-f]{32}")

#: (blob hash, destination path, file mode): one file to recreate from the store
Placement = tuple[str, Path, int]


class MissingBlob(AmlrunError, FileNotFoundError):
    """Data a caller needs is not in the store.

    Also a ``FileNotFoundError``, so code that explains unreachable stores (a worker that does
    not see the folder) catches it with the other I/O errors.
    """

    def __init__(self, message: str, hashes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.hashes = hashes


def blob_rel(h: str) -> str:
    """``cas/<ab>/<hash>``; refuses anything but a content hash, which could escape the store."""
    if not isinstance(h, str) or not _HASH.fullmatch(h):
        raise AmlrunError(f"not a content hash: {h!r}")
    return f"cas/{h[:2]}/{h}"


def is_blob_name(name: str) -> bool:
    return _HASH.fullmatch(name) is not None


def manifest_rel(key: str) -> str:
    """``steps/<key>.json``; a key never contains a path separator or starts with a dot."""
    if not key or "/" in key or "\\" in key or key.startswith("."):
        raise AmlrunError(f"not a step key: {key!r}")
    return f"steps/{key}.json"


def tmp_suffix() -> str:
    """Unique among concurrent writers (processes and threads), so none clobbers another."""
    return f"{os.getpid()}.{threading.get_ident()}.tmp"


def parse_manifest(data: bytes) -> dict | None:
    """The manifest in ``data``, or None if it is truncated, corrupt or of another version."""
    try:
        manifest = json.loads(data)
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        return None
    if (
        not isinstance(manifest, dict)
        or manifest.get("v") != MANIFEST_VERSION
        or not isinstance(manifest.get("outputs"), dict)
    ):
        return None
    return manifest


def referenced_blobs(manifest: dict) -> dict[str, str]:
    """Blob hash -> what needs it (for messages): every output file, and the log."""
    refs: dict[str, str] = {}
    try:
        for name, out in manifest["outputs"].items():
            for rel, (h, _size, _mode) in out["entries"].items():
                refs.setdefault(h, f"output '{name}' {rel or '(file)'}")
    except (AttributeError, KeyError, TypeError, ValueError):
        raise AmlrunError(
            "malformed manifest: outputs must map names to {is_file, entries: "
            "{relpath: [hash, size, mode]}}"
        ) from None
    log = manifest.get("log")
    if isinstance(log, str) and log:
        refs.setdefault(log, "log")
    return refs


def manifest_problems(store: Store, rel: str, data: bytes | None, blobs: set[str]) -> list[str]:
    """What is wrong with the manifest stored at ``rel`` (``blobs``: hashes known present)."""
    manifest = None if data is None else parse_manifest(data)
    if manifest is None:
        return [f"{rel}: unreadable manifest (truncated, corrupt or another version)"]
    try:
        refs = referenced_blobs(manifest)
    except AmlrunError as exc:
        return [f"{rel}: {exc}"]
    return [
        f"{rel}: {what} needs blob {h}, which is missing"
        for h, what in refs.items()
        if h not in blobs and not store.has_blob(h)
    ]


class Store(ABC):
    """A cache store: see the module docstring for layout and guarantees."""

    url: str  # re-opens this store (with ``open_store``) from any process
    read_only: bool
    is_local: bool  # a plain local folder (hardlinks possible)

    # ------------------------------------------------------------ what a store implements
    @abstractmethod
    def has_manifest(self, key: str) -> bool: ...

    @abstractmethod
    def get_manifest(self, key: str) -> dict | None:
        """The manifest of ``key``; None if absent, truncated or corrupt (never an error)."""

    @abstractmethod
    def has_blob(self, h: str) -> bool: ...

    @abstractmethod
    def put_file(self, path: Path, h: str | None = None, link: bool = True) -> str:
        """Store one file's bytes under their hash (computed if ``h`` is None).

        ``link=False`` copies: for files that belong to the user (input data), which a
        hardlink would make read-only and whose later edits would corrupt the blob.
        """

    @abstractmethod
    def put_bytes(self, data: bytes) -> str: ...

    @abstractmethod
    def get_bytes(self, h: str) -> bytes: ...

    @abstractmethod
    def local_blob_path(self, h: str) -> Path | None:
        """Where blob ``h`` is on this machine's disk, if it is (to link or read it)."""

    @abstractmethod
    def verify(self) -> list[str]:
        """Problems found re-hashing every blob and checking every manifest's blobs exist."""

    @abstractmethod
    def gc(self, older_than_s: float) -> tuple[int, int]:
        """Remove manifests unused for ``older_than_s``, then blobs none of the rest needs.

        A blob is removed only if it was also not written for ``older_than_s``, which leaves
        a step that is storing outputs right now alone. Returns (manifests, blobs) removed.
        """

    @abstractmethod
    def _write_manifest(self, key: str, data: bytes) -> None:
        """Make ``data`` the manifest of ``key`` in one atomic step."""

    @abstractmethod
    def _place(self, items: list[Placement]) -> None:
        """Create each destination file (parents exist) from its blob, with its mode."""

    # ------------------------------------------------------------ shared behaviour
    def _check_writable(self) -> None:
        if self.read_only:
            raise AmlrunError(f"store {self.url} is read-only")

    def put_manifest(self, key: str, manifest: dict) -> None:
        """Record a step result; refused while any blob it refers to is missing."""
        self._check_writable()
        doc = {"v": MANIFEST_VERSION, "key": key, **manifest}
        if doc["v"] != MANIFEST_VERSION or doc["key"] != key:
            raise AmlrunError(f"manifest of {key} has v={doc['v']!r}, key={doc['key']!r}")
        refs = referenced_blobs(doc)
        missing = tuple(h for h in refs if not self.has_blob(h))
        if missing:
            raise MissingBlob(
                f"refusing to record step {key} in store {self.url}: {len(missing)} blob(s) "
                f"it refers to are missing, e.g. {missing[0]} ({refs[missing[0]]}); "
                "store the data before the manifest",
                missing,
            )
        self._write_manifest(key, json.dumps(doc, separators=(",", ":")).encode())

    def put_tree(
        self, path: Path, statcache: StatCache | None = None, link: bool = True
    ) -> tuple[Entries, bool]:
        """Store every file under ``path`` (or the file): (entries, is_file).

        Entries come from the same walk the step key uses (symlinks followed), so what is
        stored is what was hashed.
        """
        from amlrun.snapshot.tree import hash_path

        self._check_writable()
        entries, _, is_file = hash_path(Path(path), statcache)
        seen: set[str] = set()
        for rel, (h, _size, _mode) in entries.items():
            if h not in seen:
                seen.add(h)
                self.put_file(Path(path, rel), h, link)
        return entries, is_file

    def materialize(self, entries: Entries, dest: Path, is_file: bool) -> None:
        """Recreate stored data at ``dest``, built aside and swapped in (replacing dest)."""
        dest = Path(dest)
        if is_file and list(entries) != [""]:
            raise AmlrunError(f"a stored file has the single entry '', not {sorted(entries)}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{tmp_suffix()}")
        _remove(tmp)
        try:
            if is_file:
                h, _size, mode = entries[""]
                self._place([(h, tmp, mode)])
            else:
                tmp.mkdir()
                items = [(h, tmp / _safe_rel(rel), mode) for rel, (h, _s, mode) in entries.items()]
                for parent in sorted({p.parent for _, p, _ in items}):
                    parent.mkdir(parents=True, exist_ok=True)
                self._place(items)
            _swap(tmp, dest)
        except BaseException:
            _remove(tmp)
            raise

    def _import_blob(self, h: str, src: Store) -> None:
        """Copy blob ``h`` from ``src`` into this store (read-through and write-back)."""
        import tempfile

        path = src.local_blob_path(h)
        if path is not None:
            self.put_file(path, h)
            return
        with tempfile.TemporaryDirectory(prefix="amlrun-blob-") as folder:
            tmp = Path(folder, h)
            src._place([(h, tmp, 0o644)])
            self.put_file(tmp, h)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


def _safe_rel(rel: str) -> str:
    """A manifest's relative path, refused if it could write outside the destination."""
    parts = rel.split("/")
    if not rel or rel.startswith("/") or "\\" in rel or any(p in ("", ".", "..") for p in parts):
        raise AmlrunError(f"unsafe path in a stored tree: {rel!r}")
    return rel


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _swap(tmp: Path, dest: Path) -> None:
    """Put ``tmp`` at ``dest``: one rename, plus moving an existing folder aside first."""
    if os.path.lexists(dest) and (tmp.is_dir() or (dest.is_dir() and not dest.is_symlink())):
        old = dest.with_name(f".{dest.name}.old.{tmp_suffix()}")
        os.replace(dest, old)
        os.replace(tmp, dest)
        _remove(old)
    else:
        os.replace(tmp, dest)
