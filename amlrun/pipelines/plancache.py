"""Loaded pipelines, cached by the stat signature of every file their loading read.

Parsing a 500-step pipeline and its component files costs more than deciding that all 500
steps are reused; a null rerun therefore loads the pickled Pipeline instead, as long as no
file it was built from changed (size, mtime, inode, else its bytes) and no code folder
appeared or vanished. A file touched but not changed is re-hashed once, not re-parsed.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from amlrun.collector import paused
from amlrun.hashing import hash_json
from amlrun.spec.reads import VOLATILE, fingerprint, recording, touched
from amlrun.version import __version__

FORMAT = 6  # 3: output paths keep their last component unresolved; component


#    environment_variables and node-level overrides are loaded; 4: azureml: references
#    resolve through the registries; 5: each module's identity hash is pickled with it;
#    6: equal module parts are one object (pipelines/share.py)
def cached(
    cache_dir: Path | None, key_data: dict[str, Any], build: Callable[[], tuple[Any, list]]
) -> tuple[Any, list]:
    """``build()`` -> (pipeline, warnings), or the cached pair when nothing it read changed."""
    if cache_dir is None:
        return build()
    entry = cache_dir / f"{hash_json({**key_data, 'v': FORMAT, 'amlrun': __version__})}.pickle"
    try:
        with open(entry, "rb") as f, paused():  # a big plan is millions of lasting objects
            deps, value = _Unpickler(f).load()
        stale = touched(deps)
        if stale is not None:
            if stale:  # the next run need not hash them again
                _write(entry, {**deps, **{p: fingerprint(p) for p in stale}}, value)
            return value
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
        pass
    with recording() as reads, paused():
        value = build()
    if VOLATILE not in reads:  # e.g. a remote registry: its labels move without a local trace
        _write(entry, reads, value)
    return value


_PATH = type(Path())


class _Pickler(pickle.Pickler):
    """Paths as their text: equal paths (every step's spec file, say) come back as one
    object. A pickled Path is rebuilt from its parts, parsed again; 10,000 steps hold 70,000
    of them, and unpickling them was half of a null run's loading."""

    def persistent_id(self, obj: Any) -> str | None:
        return str(obj) if type(obj) is _PATH else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any) -> None:
        super().__init__(file)
        self._paths: dict[str, Path] = {}

    def persistent_load(self, pid: Any) -> Path:
        if not isinstance(pid, str):
            raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")
        path = self._paths.get(pid)
        if path is None:
            path = self._paths[pid] = Path(pid)
        return path


def _write(entry: Path, deps: dict[str, Any], value: tuple[Any, list]) -> None:
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            _Pickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump((deps, value))
        os.replace(tmp, entry)
    except (OSError, pickle.PicklingError, AttributeError, TypeError):
        pass  # an unpicklable pipeline is simply not cached
