"""A store in a plain local folder: os calls only, blobs checked by stat before every use.

This is the store every null rerun asks, so the hot path is short: ``get_manifest`` is one
read plus ``json.loads`` plus one ``lstat`` per blob, compared with the blob's recorded stat
(:mod:`amlrun.cache.blobstat`); only a blob whose stat changed is re-hashed. A bad blob is
moved to ``quarantine/`` and its entry is a miss, so the step reruns and stores good bytes.

Restores clone or copy blobs (``link``: see :mod:`amlrun.cache.files`), so nothing done to a
restored file reaches the store; hardlinks only when the user opts in. Storing a runner's
temporary outputs moves them in (they are deleted right after), a user's files are copied.
"""

from __future__ import annotations

import functools
import os
import stat
import time
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from amlrun.cache import blobstat, files
from amlrun.cache.base import MissingBlob, Placement, Store, blob_rel, corrupt_blob, manifest_rel
from amlrun.cache.blobstat import signature
from amlrun.cache.files import BLOB_MODE, LINK_TYPES, NotRegular
from amlrun.cache.manifest import BadManifest, blob_sizes, parse_manifest, warn
from amlrun.cache.manifest_memo import memo_for
from amlrun.cache.registry import OpenContext
from amlrun.cache.signing import trusted
from amlrun.errors import AmlrunError, NoSpace
from amlrun.hashing import hash_bytes, hash_file

if TYPE_CHECKING:
    from amlrun.cache.sample import Sample

#: how stale a manifest's or blob's mtime may get before a use refreshes it (for gc): often
#: enough for gc, rare enough that refreshing (which changes a blob's ctime, so its stat is
#: recorded again) costs nothing on an ordinary run
TOUCH_AFTER_S = 3600.0


def _store_write(method):
    """A full or read-only store fails the write with one line naming the path."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except OSError as exc:
            if exc.errno not in NoSpace.ERRNOS:
                raise
            raise NoSpace(f"to the store {self._root}", exc) from None

    return wrapper


class LocalStore(Store):
    is_local = True

    def __init__(
        self,
        root: Path,
        read_only: bool = False,
        link: str = "reflink",
        memo_dir: Path | None = None,
    ) -> None:
        """``memo_dir``: the workspace's ``.amlrun/``, whose memo of checked manifests spares
        a null run their reads (:mod:`amlrun.cache.manifest_memo`)."""
        if link not in LINK_TYPES:
            raise AmlrunError(f"unknown link type {link!r}: use one of {', '.join(LINK_TYPES)}")
        self.root = Path(os.path.abspath(root))
        self._root = str(self.root)
        self.read_only = read_only
        self.link = link
        self.url = self._root + ("?ro" if read_only else "")
        self.stats = blobstat.shared(self._root, writable=not read_only)
        self.memo = memo_for(memo_dir) if memo_dir is not None else None

    @classmethod
    def open(cls, url: str, ctx: OpenContext) -> LocalStore:
        """A folder, ``~/folder`` or ``file://`` URL; relative folders are in the workspace."""
        path = Path(os.path.expanduser(url.removeprefix("file://")))
        root = path if path.is_absolute() else ctx.workspace / path
        return cls(root, ctx.read_only, ctx.link, memo_dir=ctx.workspace / ".amlrun")

    def _path(self, rel: str) -> str:
        return f"{self._root}/{rel}"

    # ------------------------------------------------------------ manifests
    def has_manifest(self, key: str) -> bool:
        return os.path.exists(self._path(manifest_rel(key)))

    def get_manifest(self, key: str) -> dict | None:
        rel = manifest_rel(key)
        path = self._path(rel)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        except OSError:  # e.g. a file where steps/ should be: reading it says what is wrong
            st = None
        manifest = self.memo.get(path, st) if self.memo is not None and st else None
        if manifest is None:
            read = self._read_manifest(key, rel, path)
            if read is None:
                return None
            manifest, st = read
        for h, size in blob_sizes(manifest).items():
            problem = self._unusable(h, size)
            if problem:
                warn(
                    f"store {self.url}: {rel}: blob {h} {problem}; the step will rerun",
                    f"{self.url}/{rel}",
                )
                return None
        if not self.read_only:
            _refresh(path, st.st_mtime)
        return manifest

    def _read_manifest(self, key: str, rel: str, path: str) -> tuple[dict, os.stat_result] | None:
        """The manifest at ``path`` read and checked (shape, key, signature), with the stat
        of the file it was read from; None (with one warning) when it cannot be used."""
        try:
            fd, st = files.open_regular(path)
            try:
                data = files.read_fd(fd, st.st_size)
            finally:
                os.close(fd)
            manifest = parse_manifest(data, key)
        except FileNotFoundError:
            return None
        except (NotRegular, BadManifest) as exc:
            warn(f"store {self.url}: {rel}: {exc}; the step will rerun", f"{self.url}/{rel}")
            return None
        if not trusted(manifest, self.url, rel):
            return None
        if self.memo is not None:
            self.memo.put(path, st, manifest)
        return manifest, st

    def step_keys(self) -> list[str]:
        entries = files.scandir(self._path("steps"))
        return sorted(e.name[:-5] for e in entries if e.name.endswith(".json"))

    @_store_write
    def _write_manifest(self, key: str, data: bytes) -> None:
        files.atomic_write(self._path(manifest_rel(key)), data, 0o644)

    # ------------------------------------------------------------ checking blobs
    def _unusable(self, h: str, size: int | None) -> str | None:
        """Why blob ``h`` cannot be used (quarantining a bad one), or None: one lstat if good."""
        blob = self._path(blob_rel(h))
        try:
            st = os.lstat(blob)
        except FileNotFoundError:
            return "is missing"
        if not (stat.S_ISREG(st.st_mode) and self.stats.matches(h, st)):
            problem = self._recheck(h, blob)
            if problem:
                return problem
            st = os.lstat(blob)
        if size is None or st.st_size == size:
            return None
        return f"has {st.st_size} bytes where the manifest says {size}"

    def _recheck(self, h: str, blob: str) -> str | None:
        """Re-hash a blob whose stat changed since it was known good; quarantine it if bad."""
        try:
            fd, st = files.open_regular(blob)
        except FileNotFoundError:
            return "is missing"
        except NotRegular:
            return self.quarantine(h, blob, "is not a regular file", None)
        try:
            actual = files.hash_fd(fd)
            after = os.fstat(fd)
        finally:
            os.close(fd)
        if actual != h:
            return self.quarantine(h, blob, f"is corrupt (its bytes hash to {actual})", st.st_ino)
        if signature(after) != signature(st):
            return "changed while it was being checked"
        self.stats.record(h, after)
        return None

    def quarantine(self, h: str, blob: str, problem: str, ino: int | None) -> str:
        """Move the bad inode ``ino`` (None: whatever is there) at ``blob`` to ``quarantine/``.

        Only that inode: a concurrent run may have quarantined it and stored good bytes since.
        """
        if self.read_only:
            return problem
        folder = self._path("quarantine")
        try:
            if ino is None or os.lstat(blob).st_ino == ino:
                os.makedirs(folder, exist_ok=True)
                os.rename(blob, f"{folder}/{h}.{files.tmp_suffix()[:-4]}")
        except FileNotFoundError:  # a concurrent reader moved it first
            pass
        except OSError as exc:
            return f"{problem} (could not move it to {folder}: {exc.strerror})"
        return f"{problem}; moved to {folder}"

    # ------------------------------------------------------------ blobs
    def has_blob(self, h: str) -> bool:
        return os.path.exists(self._path(blob_rel(h)))

    def local_blob_path(self, h: str) -> Path | None:
        blob = self._path(blob_rel(h))
        return None if self._unusable(h, None) else Path(blob)

    def _present(self, h: str, blob: str) -> bool:
        """Whether a good ``blob`` is stored (a bad one is quarantined); refreshed for gc."""
        if self._unusable(h, None):
            return False
        if not self.read_only:
            with suppress(OSError):
                st = os.lstat(blob)
                if time.time() - st.st_mtime > TOUCH_AFTER_S:
                    os.utime(blob, follow_symlinks=False)
                    self.stats.record(h, os.lstat(blob))
        return True

    @_store_write
    def put_file(self, path: Path, h: str | None = None, move: bool = False) -> str:
        """Move a runner's temporary output in, or copy (clone) a file; verified either way."""
        self._check_writable()
        h = h or hash_file(path)
        blob = self._path(blob_rel(h))
        if self._present(h, blob):
            return h
        os.makedirs(os.path.dirname(blob), exist_ok=True)
        tmp = files.tmp_name(blob)
        try:
            if not (move and files.take(os.fspath(path), tmp)):
                with open(path, "rb") as f:
                    size = os.fstat(f.fileno()).st_size
                    files.clone_into(f.fileno(), size, tmp, BLOB_MODE, self.link == "reflink")
            actual = _hash_path(tmp)  # the blob's own bytes, before its stat is ever trusted
            if actual != h:
                raise AmlrunError(f"{path} changed while it was stored (hash {actual}, not {h})")
            os.replace(tmp, blob)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._record_written(h, blob)
        return h

    def _record_written(self, h: str, blob: str) -> None:
        """Record a just-renamed blob's stat (a rename changes ctime, so only after it)."""
        with suppress(OSError):
            st = os.lstat(blob)
            if stat.S_ISREG(st.st_mode):
                self.stats.record(h, st)

    @_store_write
    def put_bytes(self, data: bytes) -> str:
        self._check_writable()
        h = hash_bytes(data)
        blob = self._path(blob_rel(h))
        if not self._present(h, blob):
            files.atomic_write(blob, data, BLOB_MODE)
            self._record_written(h, blob)
        return h

    def get_bytes(self, h: str) -> bytes:
        blob = self._path(blob_rel(h))
        problem = self._unusable(h, None)
        if problem == "is missing":
            raise MissingBlob(f"blob {h} is not in store {self.url}", (h,))
        if problem:
            raise corrupt_blob(h, self.url, problem)
        return files.read_regular(blob)

    def _place(self, items: list[Placement], copy: bool = False) -> None:
        """Clone, copy or (opted in, non-executable) hardlink each checked blob."""
        hardlink = self.link == "hardlink" and not copy
        for h, dest, mode, size in items:
            blob = self._path(blob_rel(h))
            problem = self._unusable(h, size)
            if problem == "is missing":
                raise MissingBlob(f"blob {h} is not in store {self.url}", (h,))
            if problem:
                raise corrupt_blob(h, self.url, problem)
            fd, st = files.open_regular(blob)
            try:
                if hardlink and not mode & 0o111 and files.hardlink_same(blob, st, str(dest)):
                    self._record_written(h, blob)  # a new link changes the blob's ctime
                    continue
                files.clone_into(fd, st.st_size, str(dest), mode, self.link == "reflink")
            finally:
                os.close(fd)

    def _import_blob(self, h: str, src: Store) -> None:
        """Fetch straight into the blob's folder, re-hashed: another layer is not trusted."""
        self._check_writable()
        blob = self._path(blob_rel(h))
        os.makedirs(os.path.dirname(blob), exist_ok=True)
        tmp = files.tmp_name(blob)
        try:
            src._place([(h, Path(tmp), BLOB_MODE, None)], copy=True)
            actual = _hash_path(tmp)
            if actual != h:
                raise corrupt_blob(h, src.url, f"is corrupt (its bytes hash to {actual})")
            os.replace(tmp, blob)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self._record_written(h, blob)

    # ------------------------------------------------------------ maintenance
    def verify(self, repair: bool = False, sample: Sample | None = None) -> list[str]:
        from amlrun.cache.sample import Sample
        from amlrun.cache.upkeep import verify_local

        if repair:
            self._check_writable()
        return verify_local(self, repair, sample or Sample())

    def gc(self, older_than_s: float, keep: frozenset[str] = frozenset()) -> tuple[int, int]:
        from amlrun.cache.upkeep import gc_local

        self._check_writable()
        return gc_local(self, older_than_s, keep)


def _hash_path(path: str) -> str:
    fd, _ = files.open_regular(path)
    try:
        return files.hash_fd(fd)
    finally:
        os.close(fd)


def _refresh(path: str, mtime: float) -> None:
    """Mark a manifest as used now for gc; best effort (it may belong to another user)."""
    if time.time() - mtime > TOUCH_AFTER_S:
        with suppress(OSError):
            os.utime(path, follow_symlinks=False)
