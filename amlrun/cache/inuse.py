"""A store-wide reader/writer lock between runs and ``cache gc``.

A run holds a shared flock on ``<store>/in-use.lock`` (first writable local layer)
from planning to the last restored output, so any number of runs share a store; ``gc``
takes it exclusively and without waiting, so it never deletes an entry that a running run
has found and is about to restore. The kernel drops the lock of a killed run. Remote layers
have no such lock: a gc of a shared bucket belongs in a job that runs when no other does.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from amlrun.cache.local import LocalStore
from amlrun.errors import AmlrunError, NoSpace

#: beside locks/, which holds the step key locks and is left empty when no run is executing
LOCK_NAME = "in-use.lock"


def _lock_file(store: Any) -> Path | None:
    layers = getattr(store, "layers", None) or [store]
    local = next((s for s in layers if isinstance(s, LocalStore) and not s.read_only), None)
    return None if local is None else local.root / LOCK_NAME


def _open(path: Path) -> int | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno not in NoSpace.ERRNOS:
            raise
        return None  # a read-only or full store: nothing can be deleted from it either


@contextmanager
def _flock(store: Any, operation: int) -> Iterator[None]:
    path = _lock_file(store)
    fd = None if path is None else _open(path)
    if fd is None:
        yield
        return
    try:
        try:
            fcntl.flock(fd, operation)
        except BlockingIOError:
            raise AmlrunError(
                f"a run is using the store {path.parent}: gc deletes nothing while a run may "
                "be restoring from it; try again when the run has finished"
            ) from None
        yield
    finally:
        os.close(fd)


def store_in_use(store: Any) -> AbstractContextManager[None]:
    """Held by a run: ``gc`` refuses to start meanwhile (a run waits only for a running gc)."""
    return _flock(store, fcntl.LOCK_SH)


def store_exclusive(store: Any) -> AbstractContextManager[None]:
    """Held by ``gc``; raises AmlrunError at once when a run is using the store."""
    return _flock(store, fcntl.LOCK_EX | fcntl.LOCK_NB)
