"""One runner per step key at a time, on a local store.

Two runs sharing a store (two terminals, four CI jobs on one machine) must not execute the
same key at once: the second waits for the first and then reuses what it stored. The lock
is an flock on ``<store>/locks/<key>.lock`` in the first writable local layer, so a lock
held by a killed run is released by the kernel, never left stale; the holder removes the
file when the step is done, so the store keeps no lock files. Remote stores (s3://,
abfs://, ...) have no such lock: runs on different machines may execute one key twice;
both leave a valid entry (blobs first, manifest last), so the cost is time, never a wrong
result.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from amlrun.cache.local import LocalStore
from amlrun.errors import NoSpace
from amlrun.locks import file_lock


def lock_path(store: Any, key: str) -> Path | None:
    """Where the lock of ``key`` lives, or None when the store has no writable local layer."""
    layers = getattr(store, "layers", None) or [store]
    local = next((s for s in layers if isinstance(s, LocalStore) and not s.read_only), None)
    return None if local is None else local.root / "locks" / f"{key}.lock"


@contextmanager
def key_lock(store: Any, key: str, cancel: threading.Event | None) -> Iterator[bool]:
    """Hold ``key``'s lock, waiting for another runner if needed; yields whether a lock was
    taken (False for a store without a writable local layer: there is nothing to re-check).

    Raises :class:`amlrun.locks.LockCancelled` when ``cancel`` is set during the wait.
    """
    path = lock_path(store, key)
    if path is None:
        yield False
        return
    with ExitStack() as stack:
        try:
            stack.enter_context(file_lock(path, cancel, remove=True))
        except OSError as exc:
            if exc.errno not in NoSpace.ERRNOS:
                raise
            # a read-only or full store: run unlocked; storing the result says what is wrong
            yield False
            return
        yield True
