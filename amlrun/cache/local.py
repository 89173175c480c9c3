"""A store in a plain local folder: os calls only, hardlinks in and out.

This is the store every null rerun asks, so the hot path is as short as it gets:
``has_manifest`` is one ``os.path.exists``, ``get_manifest`` one read plus ``json.loads``.
Blobs are hardlinked from the files being stored and into the places they are restored to
(copied when linking is impossible), and made read-only, since every link shares them.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from contextlib import suppress
from pathlib import Path

from amlrun.cache.base import (
    MissingBlob,
    Placement,
    Store,
    blob_rel,
    is_blob_name,
    manifest_problems,
    manifest_rel,
    parse_manifest,
    referenced_blobs,
    tmp_suffix,
)
from amlrun.errors import AmlrunError, NoSpace
from amlrun.hashing import hash_bytes, hash_file

BLOB_MODE = 0o444
#: how stale a manifest's or blob's mtime may get before a use refreshes it (for gc): often
#: enough for gc, rare enough that a blob hardlinked from a user's file (sharing its mtime)
#: does not invalidate that file's stat cache entry on every run
TOUCH_AFTER_S = 3600.0
#: a temporary file younger than this may belong to a writer still running
TMP_GRACE_S = 3600.0


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

    def __init__(self, root: Path, read_only: bool = False) -> None:
        self.root = Path(os.path.abspath(root))
        self._root = str(self.root)
        self.read_only = read_only
        self.url = self._root + ("?ro" if read_only else "")

    def _path(self, rel: str) -> str:
        return f"{self._root}/{rel}"

    # ------------------------------------------------------------ manifests
    def has_manifest(self, key: str) -> bool:
        return os.path.exists(self._path(manifest_rel(key)))

    def get_manifest(self, key: str) -> dict | None:
        path = self._path(manifest_rel(key))
        try:
            with open(path, "rb") as f:
                data = f.read()
                mtime = os.fstat(f.fileno()).st_mtime
        except OSError:
            return None
        manifest = parse_manifest(data)
        if manifest is not None and not self.read_only:
            _refresh(path, mtime)
        return manifest

    @_store_write
    def _write_manifest(self, key: str, data: bytes) -> None:
        path = self._path(manifest_rel(key))
        _atomic_write(path, data, 0o644)

    # ------------------------------------------------------------ blobs
    def has_blob(self, h: str) -> bool:
        return os.path.exists(self._path(blob_rel(h)))

    def local_blob_path(self, h: str) -> Path | None:
        path = self._path(blob_rel(h))
        return Path(path) if os.path.exists(path) else None

    def _present(self, blob: str) -> bool:
        """Whether ``blob`` is stored; refreshes its mtime, so gc sees it is in use."""
        try:
            mtime = os.stat(blob).st_mtime
        except FileNotFoundError:
            return False
        _refresh(blob, mtime)
        return True

    @_store_write
    def put_file(self, path: Path, h: str | None = None, link: bool = True) -> str:
        """Hardlink the file in (its inode becomes read-only), or copy it.

        An executable file is copied: its inode keeps its mode, and blobs are never
        executable, so a restored non-executable file never comes out executable.
        """
        self._check_writable()
        h = h or hash_file(path)
        blob = self._path(blob_rel(h))
        if self._present(blob):
            return h
        os.makedirs(os.path.dirname(blob), exist_ok=True)
        tmp = _tmp_name(blob)
        try:
            if not link or os.stat(path).st_mode & 0o111 or not _link(path, tmp):
                shutil.copyfile(path, tmp)
                os.chmod(tmp, BLOB_MODE)
            os.replace(tmp, blob)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return h

    @_store_write
    def put_bytes(self, data: bytes) -> str:
        self._check_writable()
        h = hash_bytes(data)
        blob = self._path(blob_rel(h))
        if not self._present(blob):
            _atomic_write(blob, data, BLOB_MODE)
        return h

    def get_bytes(self, h: str) -> bytes:
        try:
            with open(self._path(blob_rel(h)), "rb") as f:
                return f.read()
        except FileNotFoundError:
            raise MissingBlob(f"blob {h} is not in store {self.url}", (h,)) from None

    def _place(self, items: list[Placement]) -> None:
        """Hardlink non-executable files (the blob's mode is right); copy executable ones."""
        for h, dest, mode in items:
            blob = self._path(blob_rel(h))
            try:
                if mode & 0o111 or not _link(blob, dest):
                    shutil.copyfile(blob, dest)
                    os.chmod(dest, mode)
            except FileNotFoundError:
                if not os.path.exists(blob):
                    raise MissingBlob(f"blob {h} is not in store {self.url}", (h,)) from None
                raise

    def _import_blob(self, h: str, src: Store) -> None:
        """Fetch straight into the blob's folder: one rename, no copy between filesystems."""
        self._check_writable()
        blob = self._path(blob_rel(h))
        os.makedirs(os.path.dirname(blob), exist_ok=True)
        tmp = _tmp_name(blob)
        try:
            src._place([(h, Path(tmp), BLOB_MODE)])
            os.chmod(tmp, BLOB_MODE)
            os.replace(tmp, blob)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    # ------------------------------------------------------------ maintenance
    def _blob_files(self) -> list[os.DirEntry]:
        out: list[os.DirEntry] = []
        for sub in _scandir(self._path("cas")):
            if sub.is_dir(follow_symlinks=False):
                out.extend(_scandir(sub.path))
        return out

    def _manifest_files(self) -> list[os.DirEntry]:
        return [e for e in _scandir(self._path("steps")) if e.name.endswith(".json")]

    def verify(self) -> list[str]:
        problems: list[str] = []
        blobs: set[str] = set()
        for e in self._blob_files():
            if _is_tmp(e.name):
                continue
            rel = f"cas/{os.path.basename(os.path.dirname(e.path))}/{e.name}"
            if not is_blob_name(e.name) or blob_rel(e.name) != rel:
                problems.append(f"{rel}: not a blob name or in the wrong folder")
                continue
            blobs.add(e.name)
            try:
                actual = hash_file(e.path)
            except OSError as exc:
                problems.append(f"{rel}: unreadable ({exc})")
                continue
            if actual != e.name:
                problems.append(f"{rel}: corrupt, its content hashes to {actual}")
        for e in self._manifest_files():
            problems += manifest_problems(self, f"steps/{e.name}", _read(e.path), blobs)
        return problems

    def gc(self, older_than_s: float) -> tuple[int, int]:
        self._check_writable()
        now = time.time()
        cutoff = now - older_than_s
        keep: set[str] = set()
        manifests = 0
        for e in self._manifest_files():
            with suppress(FileNotFoundError):
                st = e.stat()
                refs = _refs(_read(e.path))
                if refs is None or st.st_mtime < cutoff:
                    os.unlink(e.path)
                    manifests += 1
                else:
                    keep.update(refs)
        blobs = 0
        for e in self._blob_files():
            with suppress(FileNotFoundError):
                mtime = e.stat(follow_symlinks=False).st_mtime
                if _is_tmp(e.name):
                    if mtime < min(cutoff, now - TMP_GRACE_S):
                        os.unlink(e.path)
                elif e.name not in keep and mtime < cutoff:
                    os.unlink(e.path)
                    blobs += 1
        for e in _scandir(self._path("steps")):
            if _is_tmp(e.name):
                with suppress(FileNotFoundError):
                    if e.stat().st_mtime < min(cutoff, now - TMP_GRACE_S):
                        os.unlink(e.path)
        return manifests, blobs


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _refs(data: bytes | None) -> set[str] | None:
    """The blobs a manifest needs; None for an unreadable or malformed one (garbage)."""
    manifest = None if data is None else parse_manifest(data)
    if manifest is None:
        return None
    try:
        return set(referenced_blobs(manifest))
    except AmlrunError:
        return None


def _scandir(path: str) -> list[os.DirEntry]:
    try:
        with os.scandir(path) as it:
            return list(it)
    except FileNotFoundError:
        return []


def _tmp_name(path: str) -> str:
    head, name = os.path.split(path)
    return f"{head}/.{name}.{tmp_suffix()}"


def _is_tmp(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def _atomic_write(path: str, data: bytes, mode: int) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = _tmp_name(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _link(src: str | os.PathLike, dest: str | os.PathLike) -> bool:
    """Hardlink ``src`` at ``dest`` as a read-only inode; False if this filesystem can't.

    Linking fails across filesystems, on too many links, or on another user's file.
    """
    try:
        os.link(src, dest)
    except FileNotFoundError:
        raise
    except OSError:
        return False
    try:
        os.chmod(dest, BLOB_MODE)
    except OSError:
        os.unlink(dest)
        return False
    return True


def _refresh(path: str, mtime: float) -> None:
    """Mark a file as used now for gc; best effort (it may belong to another user)."""
    if time.time() - mtime > TOUCH_AFTER_S:
        with suppress(OSError):
            os.utime(path)
