"""What each local blob's inode looked like when it was written or last re-hashed.

A blob whose (inode, size, mtime_ns, ctime_ns) still equals its record has not been written
since it was known good, so a reuse check costs one ``lstat`` per blob instead of a read.
Anything that changes bytes in place (an edit through a hardlink, bit rot repaired by a
tool, ``truncate``) changes mtime or ctime, and then the blob is re-hashed before use.

The record is one append-only file, ``<store>/cas-stat.log``, one line per record::

    <hash> <inode> <size> <mtime_ns> <ctime_ns>

Each record is a single ``O_APPEND`` write, so concurrent writers never interleave on a local
filesystem; it starts with a newline of its own, so a line torn by a crash is skipped without
taking the next record with it, and the last line for a hash wins. Losing a
record (a crash, gc compacting the file while another process appends) costs a re-hash,
never a wrong answer: absent and stale records mean the same thing.
"""

from __future__ import annotations

import os
import threading
import weakref

from amlrun.cache.files import NotRegular, open_regular
from amlrun.cache.manifest import is_blob_name

#: (inode, size, mtime_ns, ctime_ns)
Signature = tuple[int, int, int, int]
LOG_NAME = "cas-stat.log"
#: never follow a planted symlink, never block on a planted FIFO
_APPEND = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK


def signature(st: os.stat_result) -> Signature:
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class BlobStats:
    """The records of one store, read lazily and caught up when a lookup misses."""

    def __init__(self, root: str, writable: bool) -> None:
        self.path = f"{root}/{LOG_NAME}"
        self.writable = writable
        self._sigs: dict[str, Signature] = {}
        self._file: tuple[int, int] = (-1, 0)  # (inode, bytes parsed) of the log read so far
        self._lock = threading.Lock()

    def matches(self, h: str, st: os.stat_result) -> bool:
        """Whether blob ``h``, now with stat ``st``, is as recorded when it was known good."""
        sig = signature(st)
        if self._sigs.get(h) == sig:
            return True
        self._catch_up()  # another process may have recorded it since
        return self._sigs.get(h) == sig

    def record(self, h: str, st: os.stat_result) -> None:
        """Remember blob ``h`` as good with stat ``st`` (appended, if the store is writable)."""
        sig = signature(st)
        with self._lock:
            self._sigs[h] = sig
        if self.writable:
            line = f"\n{h} {' '.join(map(str, sig))}\n".encode()  # own line after a torn one
            try:
                fd = os.open(self.path, _APPEND, 0o644)
            except OSError:
                return  # best effort: a missing record only costs a re-hash
            try:
                os.write(fd, line)
            finally:
                os.close(fd)

    def compact(self, keep: dict[str, os.stat_result]) -> None:
        """Rewrite the log with one record per blob in ``keep`` (gc), atomically."""
        if not self.writable:
            return
        self._catch_up()
        lines = [
            f"{h} {' '.join(map(str, signature(st)))}\n"
            for h, st in keep.items()
            if self._sigs.get(h) == signature(st)
        ]
        tmp = f"{self.path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "w") as f:
            f.writelines(lines)
        os.replace(tmp, self.path)
        with self._lock:
            self._sigs = {
                h: signature(st) for h, st in keep.items() if self._sigs.get(h) == signature(st)
            }
            self._file = (-1, 0)

    def _catch_up(self) -> None:
        """Parse what was appended since the last read (or all of it, if the file was replaced)."""
        try:
            fd, st = open_regular(self.path)
        except (OSError, NotRegular):
            return
        with self._lock, os.fdopen(fd, "rb") as f:
            ino, done = self._file
            if ino != st.st_ino or st.st_size < done:
                ino, done = st.st_ino, 0
            f.seek(done)
            data = f.read()
            end = data.rfind(b"\n") + 1
            self._file = (ino, done + end)
            for line in data[:end].split(b"\n"):
                _parse(line, self._sigs)


#: weak: the records live as long as some store object uses them (a run's own store keeps
#: them for the run), not as long as the process
_shared: weakref.WeakValueDictionary[tuple[str, bool], BlobStats] = weakref.WeakValueDictionary()
_shared_lock = threading.Lock()


def shared(root: str, writable: bool) -> BlobStats:
    """The records of the store at ``root``, shared by every store object open on it: the
    local backend opens the store anew for every step, and each new object parsed the whole
    log again (an edit rerunning 150 steps parsed 117,000 lines of a 420-line log)."""
    with _shared_lock:
        stats = _shared.get((root, writable))
        if stats is None:
            stats = _shared[(root, writable)] = BlobStats(root, writable)
        return stats


def _parse(line: bytes, into: dict[str, Signature]) -> None:
    parts = line.split()
    if len(parts) != 5:
        return
    try:
        h = parts[0].decode()
        sig = tuple(int(p) for p in parts[1:])
    except ValueError:
        return
    if is_blob_name(h):
        into[h] = sig  # type: ignore[assignment]
