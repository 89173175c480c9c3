"""Advisory file locks between processes (fcntl.flock).

A flock belongs to an open file description, so the kernel drops it when its process dies:
a lock left by a killed run is never stale, nobody has to break it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_S = 0.05  # how often a waiter looks at its cancel event


class LockCancelled(Exception):
    """The user cancelled the run while it waited for another process's lock."""


@contextmanager
def file_lock(
    path: Path, cancel: threading.Event | None = None, *, remove: bool = False
) -> Iterator[None]:
    """Hold an exclusive lock on ``path``, created if needed.

    With ``cancel``, waiting polls so that Ctrl-C still stops a waiter: a cancelled wait
    raises :class:`LockCancelled` rather than going on without the lock. With ``remove``
    the holder deletes the file when done, so one-off locks leave nothing behind; a waiter
    that then holds the deleted file's lock notices (another inode is, or none is, at
    ``path``) and locks afresh.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            _acquire(fd, path, cancel)
        except BaseException:
            os.close(fd)
            raise
        if not remove or _is_at(fd, path):
            break
        os.close(fd)
    try:
        yield
    finally:
        if remove:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        os.close(fd)  # closing drops the lock


def _acquire(fd: int, path: Path, cancel: threading.Event | None) -> None:
    if cancel is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if cancel.wait(POLL_S):
                raise LockCancelled(f"cancelled while waiting for {path}") from None


def _is_at(fd: int, path: Path) -> bool:
    """Whether the locked file is still the one at ``path`` (its holder may have removed it)."""
    held = os.fstat(fd)
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)
