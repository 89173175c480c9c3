"""A restored copy that is reused only while nobody has touched it.

Upstream outputs are restored once under ``.amlrun/out`` and handed to every step that reads
them. A step may write to its input anyway (root ignores the read-only mode), and the next
consumer must not see that: the stat of every file and folder is recorded when the copy is
restored, and a copy whose stat changed is restored again (one ``lstat`` per path to check).
"""

from __future__ import annotations

import json
import os
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from amlrun.cache.blobstat import signature
from amlrun.cache.files import atomic_write

if TYPE_CHECKING:
    from amlrun.cache.base import Store
    from amlrun.cache.manifest import Entries


def is_restored(entries: Entries, dest: Path) -> bool:
    """Whether ``dest`` holds exactly ``entries``, untouched since it was restored."""
    return _untouched(dest.with_name(f".{dest.name}.restored"), dest, entries)


def restore_once(store: Store, entries: Entries, dest: Path, is_file: bool) -> None:
    """Make ``dest`` hold exactly ``entries``: kept if untouched since restored, else redone."""
    marker = dest.with_name(f".{dest.name}.restored")
    if _untouched(marker, dest, entries):
        return
    with suppress(FileNotFoundError):
        marker.unlink()
    store.materialize(entries, dest, is_file)
    atomic_write(
        str(marker), json.dumps({"entries": entries, "stat": _stats(dest)}).encode(), 0o644
    )


def _stats(dest: Path) -> dict[str, list[int]]:
    """relpath -> signature of every file and folder under ``dest`` (or of the file)."""
    top = str(dest)
    out = {"": list(signature(os.lstat(top)))}
    for folder, dirs, names in os.walk(top):
        rel = os.path.relpath(folder, top)
        for name in dirs + names:
            path = f"{folder}/{name}"
            out[name if rel == "." else f"{rel}/{name}"] = list(signature(os.lstat(path)))
    return out


def _untouched(marker: Path, dest: Path, entries: Entries) -> bool:
    try:
        recorded = json.loads(marker.read_bytes())
        if recorded["entries"] != entries:
            return False
        for rel, sig in recorded["stat"].items():
            path = os.path.join(dest, rel) if rel else str(dest)
            if list(signature(os.lstat(path))) != sig:
                return False
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    return True
