"""Loaded pipelines, cached by the stat signature of every file their loading read.

Parsing a 500-step pipeline and its component files costs more than deciding that all 500
steps are reused; a null rerun therefore loads the pickled Pipeline instead, as long as no
file it was built from changed (size, mtime, inode) and no code folder appeared or vanished.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from amlrun.hashing import hash_json
from amlrun.spec.reads import VOLATILE, recording, signature
from amlrun.version import __version__

FORMAT = 5  # 3: output paths keep their last component unresolved; component


#    environment_variables and node-level overrides are loaded; 4: azureml: references
#    resolve through the registries; 5: each module's identity hash is pickled with it
def cached(
    cache_dir: Path | None, key_data: dict[str, Any], build: Callable[[], tuple[Any, list]]
) -> tuple[Any, list]:
    """``build()`` -> (pipeline, warnings), or the cached pair when nothing it read changed."""
    if cache_dir is None:
        return build()
    entry = cache_dir / f"{hash_json({**key_data, 'v': FORMAT, 'amlrun': __version__})}.pickle"
    try:
        with open(entry, "rb") as f:
            deps, value = pickle.load(f)
        if all(signature(p) == sig for p, sig in deps.items()):
            return value
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError, TypeError):
        pass
    with recording() as reads:
        value = build()
    if VOLATILE in reads:  # e.g. a remote registry: its labels move without a local trace
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
