"""The files a command runs with: collected, hashed for the step key, staged for a run."""

from __future__ import annotations

from amlrun.snapshot.tree import (
    Snapshot,
    SnapshotFile,
    entries_hash,
    hash_folder,
    hash_path,
    take_snapshot,
)

__all__ = [
    "Snapshot",
    "SnapshotFile",
    "entries_hash",
    "hash_folder",
    "hash_path",
    "take_snapshot",
]
