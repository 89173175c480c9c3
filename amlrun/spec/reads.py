"""Which files a load read: loaders record each file they read or folder they look for.

The plan cache (``amlrun.pipelines.plancache``) keys a pickled pipeline on the stat
signature of every path recorded while it was built; the recording lives here, below the
loaders, so that spec/ needs nothing of the layers that cache what it loads.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


def record(path: str | os.PathLike) -> None:
    """Called by loaders for every file they read or folder whose existence they check."""
    reads = _reads.get()
    if reads is not None:
        p = os.path.abspath(path)
        if p not in reads:
            reads[p] = signature(p)


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
