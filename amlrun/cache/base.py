"""What every store does: content-addressed blobs, and step manifests that point at them.

Layout (DESIGN.md, "The store")::

    cas/<ab>/<hash>      immutable blobs named by their xxh3_128 content hash
    steps/<key>.json     one manifest per step key
    cas-stat.log         local stores: each blob's stat when known good (cache/blobstat.py)
    quarantine/          bad blobs moved aside, where nothing reads them

Blobs are written before the manifest naming them and every write lands under its final name
in one step (rename or atomic put), so a manifest that can be read points at data that is
there. A store may be shared, so what is read from it is checked: manifests for shape
(cache/manifest.py), blobs against their hash. The subclasses only say how bytes move; the
rules live here.
"""

from __future__ import annotations

import json
import os
import shutil
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

from amlrun.cache.files import tmp_suffix
from amlrun.cache.manifest import (
    MANIFEST_VERSION,
    is_blob_name,
    missing_outputs,
    referenced_blobs,
    restore_mode,
    safe_rel,
    warn,
)
from amlrun.cache.signing import signed
from amlrun.errors import AmlrunError

if TYPE_CHECKING:
    from amlrun.cache.manifest import Entries
    from amlrun.cache.sample import Sample
    from amlrun.hashing import StatCache

#: (blob hash, destination path, file mode, size the manifest promises or None): one file to
#: recreate from the store
Placement = tuple[str, Path, int, int | None]


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
    if not is_blob_name(h):
        raise AmlrunError(f"not a content hash: {h!r}")
    return f"cas/{h[:2]}/{h}"


def manifest_rel(key: str) -> str:
    """``steps/<key>.json``; a key never contains a path separator, NUL or a leading dot."""
    if not key or "/" in key or "\\" in key or "\0" in key or key.startswith("."):
        raise AmlrunError(f"not a step key: {key!r}")
    return f"steps/{key}.json"


class BadBlob(AmlrunError):
    """A blob's bytes are not what its name says (met while restoring data)."""


def corrupt_blob(h: str, store_url: str, problem: str) -> BadBlob:
    """The error for a bad blob met while restoring data (a reused step's are rerun)."""
    return BadBlob(
        f"blob {h} in store {store_url} {problem}, so it was not restored. "
        f"Fix: run 'amlrun cache verify --repair' (with --store {store_url} if it is not the "
        "default), then run again to recompute what it held"
    )


def manifest_bytes(doc: dict) -> bytes:
    """A complete manifest document as stored: signed when a secret is set."""
    return json.dumps(signed(doc), separators=(",", ":")).encode()


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
        """The manifest of ``key``, checked; None (a miss, one warning) if absent or unusable.

        Unusable: malformed (see :mod:`amlrun.cache.manifest`), or naming a blob that is
        missing or whose bytes are not what its name says (which is then quarantined).
        """

    @abstractmethod
    def step_keys(self) -> list[str]:
        """Every step key with a manifest here (unchecked: for moving and listing entries)."""

    @abstractmethod
    def has_blob(self, h: str) -> bool: ...

    @abstractmethod
    def put_file(self, path: Path, h: str | None = None, move: bool = False) -> str:
        """Store one file's bytes under their hash (computed if ``h`` is None).

        ``move=True`` says the file is a runner's temporary output, deleted right after: the
        store may take it instead of copying it. Never pass it for a user's file.
        """

    @abstractmethod
    def put_bytes(self, data: bytes) -> str: ...

    @abstractmethod
    def get_bytes(self, h: str) -> bytes: ...

    @abstractmethod
    def local_blob_path(self, h: str) -> Path | None:
        """Where blob ``h`` is on this machine's disk, if it is (to read it; never to write)."""

    @abstractmethod
    def verify(self, repair: bool = False, sample: Sample | None = None) -> list[str]:
        """Problems found re-hashing every blob (or the ``sample`` of them) and checking every
        manifest's blobs exist.

        ``repair=True`` also quarantines bad blobs and drops manifests that are malformed or
        need a missing blob, so the next run recomputes them.
        """

    @abstractmethod
    def gc(self, older_than_s: float, keep: frozenset[str] = frozenset()) -> tuple[int, int]:
        """Remove manifests unused for ``older_than_s`` (but never those of the ``keep``
        keys), then blobs none of the rest needs.

        A blob is removed only if it was also not written for ``older_than_s``, which leaves
        a step that is storing outputs right now alone. Returns (manifests, blobs) removed.
        """

    @abstractmethod
    def _write_manifest(self, key: str, data: bytes) -> None:
        """Make ``data`` the manifest of ``key`` in one atomic step."""

    @abstractmethod
    def _place(self, items: list[Placement], copy: bool = False) -> None:
        """Create each destination (parents exist, it does not) from its blob, checked.

        ``copy=True`` forbids sharing the blob's inode (a hardlink), e.g. into another store.
        """

    # ------------------------------------------------------------ shared behaviour
    def _check_writable(self) -> None:
        if self.read_only:
            raise AmlrunError(f"store {self.url} is read-only")

    def find(self, key: str, outputs: list[str] | tuple[str, ...]) -> dict | None:
        """The manifest of a step whose module declares ``outputs``; a miss if it lacks one."""
        manifest = self.get_manifest(key)
        lacking = missing_outputs(manifest, outputs) if manifest is not None else []
        if lacking:
            warn(
                f"store {self.url}: steps/{key}.json has no output '{lacking[0]}', which the "
                "step's module declares; the step will rerun",
                f"{self.url}/steps/{key}.json",
            )
            return None
        return manifest

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
        self._write_manifest(key, manifest_bytes(doc))

    def put_tree(
        self, path: Path, statcache: StatCache | None = None, move: bool = False
    ) -> tuple[Entries, bool]:
        """Store every file under ``path`` (or the file): (entries, is_file).

        Entries come from the same walk the step key uses (symlinks followed), so what is
        stored is what was hashed. ``move``: see :meth:`put_file`.
        """
        from amlrun.snapshot.tree import hash_path

        self._check_writable()
        entries, _, is_file = hash_path(Path(path), statcache)
        seen: set[str] = set()
        for rel, (h, _size, _mode) in entries.items():
            if h not in seen:
                seen.add(h)
                self.put_file(Path(path, rel), h, move)
        return entries, is_file

    def materialize(self, entries: Entries, dest: Path, is_file: bool) -> None:
        """Recreate stored data at ``dest``, built aside and swapped in (replacing dest).

        Files come back read-only (0444, or 0555 if executable), whatever mode was stored.
        """
        dest = Path(dest)
        if is_file and list(entries) != [""]:
            raise AmlrunError(f"a stored file has the single entry '', not {sorted(entries)}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{tmp_suffix()}")
        _remove(tmp)
        try:
            if is_file:
                h, size, mode = entries[""]
                self._place([(h, tmp, restore_mode(mode), size)])
            else:
                tmp.mkdir()
                items: list[Placement] = [
                    (h, tmp / safe_rel(rel), restore_mode(mode), size)
                    for rel, (h, size, mode) in entries.items()
                ]
                for parent in sorted({p.parent for _, p, _, _ in items}):
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
            src._place([(h, tmp, 0o644, None)], copy=True)
            self.put_file(tmp, h)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"


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
