"""Which files a load read: loaders record each file they read or folder they look for.

The plan cache (``amlrun.pipelines.plancache``) keys a pickled pipeline on the stat
signature of every path recorded while it was built, and on each file's content hash: a
file whose stat changed but not its bytes (a ``touch``, a checkout) still matches. The
recording lives here, below the loaders, so that spec/ needs nothing of the layers that
cache what it loads. Loaders record a file before they read it, so a file that changes
while it is read is recorded with the old bytes and the next load sees the change.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from amlrun.hashing import hash_file

_reads: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "amlrun_plan_reads", default=None
)


def signature(path: str) -> Any:
    """(size, mtime_ns, inode) of a file, "dir" for a folder, None when it is absent."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino) if not os.path.isdir(path) else "dir"


def fingerprint(path: str) -> Any:
    """The signature, plus the content hash of a file: what :func:`unchanged` compares."""
    sig = signature(path)
    if isinstance(sig, tuple):
        try:
            return (*sig, hash_file(path))
        except OSError:  # vanished or unreadable since the stat: the loader will say
            return None
    return sig


def touched(deps: dict[str, Any]) -> list[str] | None:
    """None if a recorded path changed; else the files whose stat moved but not their bytes
    (their recorded fingerprints are stale)."""
    out = []
    for path, recorded in deps.items():
        sig = signature(path)
        if sig == recorded or (isinstance(recorded, tuple) and sig == recorded[:3]):
            continue
        if not (isinstance(sig, tuple) and isinstance(recorded, tuple) and len(recorded) == 4):
            return None
        try:
            if hash_file(path) != recorded[3]:
                return None
        except OSError:
            return None
        out.append(path)
    return out


def record(path: str | os.PathLike) -> None:
    """Called by loaders for every file they read or folder whose existence they check,
    before reading it."""
    reads = _reads.get()
    if reads is not None:
        p = os.path.abspath(path)
        if p not in reads:
            reads[p] = fingerprint(p)


#: recorded by a loader that read something besides local files (a remote registry)
VOLATILE = "<volatile>"


def volatile() -> None:
    """Called by loaders that read something besides local files: the plan is not cached."""
    reads = _reads.get()
    if reads is not None:
        reads[VOLATILE] = True


@contextmanager
def recording() -> Iterator[dict[str, Any]]:
    """Collect path -> signature of everything recorded inside the ``with`` block."""
    reads: dict[str, Any] = {}
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)
