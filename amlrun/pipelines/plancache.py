"""Loaded pipelines, cached by the stat signature of every file their loading read.

Parsing a 500-step pipeline and its component files costs more than deciding that all 500
steps are reused; a null rerun therefore loads the pickled Pipeline instead, as long as no
file it was built from changed (size, mtime, inode) and no code folder appeared or vanished.
"""

from __future__ import annotations

import contextvars
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from amlrun.hashing import hash_json

FORMAT = 4  # 3: output paths keep their last component unresolved; component
#    environment_variables and node-level overrides are loaded; 4: azureml: references
#    resolve through the registries
_reads: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "amlrun_plan_reads", default=None
)


def _signature(path: str) -> Any:
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
            reads[p] = _signature(p)


def volatile() -> None:
    """Called by loaders that read something besides local files (a remote registry): the
    plan is not cached."""
    reads = _reads.get()
    if reads is not None:
        reads[_VOLATILE] = True


_VOLATILE = "<volatile>"


def cached(
    cache_dir: Path | None, key_data: dict[str, Any], build: Callable[[], tuple[Any, list]]
) -> tuple[Any, list]:
    """``build()`` -> (pipeline, warnings), or the cached pair when nothing it read changed."""
    if cache_dir is None:
        return build()
    from amlrun import __version__

    entry = cache_dir / f"{hash_json({**key_data, 'v': FORMAT, 'amlrun': __version__})}.pickle"
    try:
        with open(entry, "rb") as f:
            deps, value = pickle.load(f)
        if all(_signature(p) == sig for p, sig in deps.items()):
            return value
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
        pass
    reads: dict[str, Any] = {}
    token = _reads.set(reads)
    try:
        value = build()
    finally:
        _reads.reset(token)
    if _VOLATILE in reads:
        return value
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump((reads, value), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, entry)
    except (OSError, pickle.PicklingError, AttributeError, TypeError):
        pass  # an unpicklable pipeline is simply not cached
    return value
