"""Advisory file locks between processes (fcntl.flock).

A flock belongs to an open file description, so the kernel drops it when its process dies:
a lock left by a killed run is never stale, nobody has to break it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_S = 0.05  # how often a waiter looks at its cancel event


@contextmanager
def file_lock(path: Path, cancel: threading.Event | None = None) -> Iterator[bool]:
    """Hold an exclusive lock on ``path`` (created if needed); yields whether it had to wait.

    With ``cancel``, waiting polls so that Ctrl-C still stops a waiter: a cancelled wait
    raises :class:`LockCancelled` rather than going on without the lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        waited = not _try(fd)
        if waited:
            if cancel is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                while not _try(fd):
                    if cancel.wait(POLL_S):
                        raise LockCancelled(f"cancelled while waiting for {path}")
        yield waited
    finally:
        os.close(fd)  # closing drops the lock


def _try(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class LockCancelled(Exception):
    """The user cancelled the run while it waited for another process's lock."""
