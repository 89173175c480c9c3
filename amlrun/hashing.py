"""Content hashing (xxh3_128) and the persistent stat cache.

Files whose (size, mtime_ns, inode) did not change since they were last hashed are never
read again, like git's index: re-hashing an unchanged tree costs one ``stat`` per file.
"""

from __future__ import annotations

import json
import marshal
import mmap
import os
import stat as stat_mod
import threading
from pathlib import Path
from typing import BinaryIO

import xxhash

_BUF = 8 * 1024 * 1024  # below: one read(); above: mapped
_MAP_CHUNK = 64 * 1024 * 1024


def hash_bytes(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def hash_file(path: str | os.PathLike) -> str:
    """xxh3_128 of a file's bytes.

    A small file is read in one call. A big one is hashed straight from the page cache
    through ``mmap``, without copying it into a buffer first: twice read()'s throughput (as
    git hashes big files; as there, a file truncated while it is hashed faults the process).
    A file that cannot be mapped is read in large chunks.
    """
    with open(path, "rb", buffering=0) as f:
        if os.fstat(f.fileno()).st_size < _BUF:
            return xxhash.xxh3_128_hexdigest(f.read())  # read() reads to the end
        try:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            return _hash_read(f)
        h = xxhash.xxh3_128()
        with mapped, memoryview(mapped) as view:
            for offset in range(0, len(view), _MAP_CHUNK):
                h.update(view[offset : offset + _MAP_CHUNK])
    return h.hexdigest()


def _hash_read(f: BinaryIO) -> str:
    """Chunks into one reused buffer, allocated only for a big file: zeroing 8 MB per small
    file made a cold snapshot 4x slower."""
    h = xxhash.xxh3_128()
    buf = bytearray(_BUF)
    view = memoryview(buf)
    while n := f.readinto(buf):
        h.update(view[:n])
    return h.hexdigest()


#: built once: ``json.dumps`` with options builds an encoder per call, a fifth of its cost
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(obj: object) -> bytes:
    """One byte string per value: sorted keys, no whitespace, UTF-8."""
    return _CANONICAL.encode(obj).encode()


def hash_json(obj: object) -> str:
    return hash_bytes(canonical_json(obj))


def file_mode(st_mode: int) -> int:
    """The part of a mode that matters for reproducibility: executable or not (as git)."""
    return 0o755 if st_mode & stat_mod.S_IXUSR else 0o644


def tree_hash(entries: list[tuple[str, int, str]]) -> str:
    """Hash of a directory: its sorted (relative path, mode, content hash) list."""
    return hash_json(sorted(entries))


class StatCache:
    """Remembers file hashes by (size, mtime_ns, inode); persisted with marshal (fast)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._dirty = False
        self._entries: dict[str, tuple[int, int, int, str]] = {}
        if path is not None:
            try:
                with open(path, "rb") as f:
                    loaded = marshal.loads(f.read())  # ~10x faster than marshal.load(f)
                if isinstance(loaded, dict):
                    self._entries = loaded
            except (OSError, EOFError, ValueError, TypeError):
                self._entries = {}

    def hash(self, path: str, st: os.stat_result | None = None) -> str:
        """Content hash of ``path``, read only when its stat changed."""
        st = st or os.stat(path)
        sig = (st.st_size, st.st_mtime_ns, st.st_ino)
        cached = self._entries.get(path)
        if cached is not None and cached[:3] == sig:
            return cached[3]
        digest = hash_file(path)
        with self._lock:
            self._entries[path] = (*sig, digest)
            self._dirty = True
        return digest

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        with self._lock, open(tmp, "wb") as f:
            marshal.dump(self._entries, f)
        os.replace(tmp, self.path)
        self._dirty = False
