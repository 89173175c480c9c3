"""The team's last key of each pipeline step, and fetching a plan's manifests in one go.

A step's key depends on its upstream manifests, so a chain's keys are known one after the
other, and asking a remote store one manifest at a time costs one round trip per step. The
keys a run will most likely look up are known before it starts: those of the last run here
(runs.sqlite), or in a fresh CI clone, those the trusted writer recorded in the store's index
``pipelines/<pipeline id>.json`` (step name -> key; the id hashes the pipeline file's path
inside the repository and its name, so every clone shares it). Their manifests are fetched
concurrently in one batch per remote layer and kept locally (cache/manifest_cache.py); the
lookups that follow cost no request. The index is a hint only: what it names is checked like
any other manifest when read, and a step it gets wrong just asks the store as before.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from amlrun.cache.base import manifest_rel
from amlrun.hashing import hash_bytes

if TYPE_CHECKING:
    from amlrun.cache.base import Store


def pipeline_id(identity: str) -> str:
    """The index name of a pipeline: a hash of ``identity``, its file's path relative to the
    workspace and its name (two repositories sharing a store rarely share both)."""
    return hash_bytes(identity.replace("\\", "/").encode())[:16]


def _remote_layers(store: Store) -> list[Any]:
    layers = getattr(store, "layers", None) or [store]
    return [layer for layer in layers if not layer.is_local and hasattr(layer, "fs")]


def _index_path(layer: Any, pid: str) -> str:
    return layer._path(f"pipelines/{pid}.json")


def read_index(store: Store, pid: str) -> dict[str, str]:
    """The first remote layer's index of pipeline ``pid``: step -> last key (empty if none)."""
    for layer in _remote_layers(store):
        try:
            doc = json.loads(layer.fs.cat_file(_index_path(layer, pid), **layer.small_read))
        except (OSError, ValueError):
            continue
        steps = doc.get("steps") if isinstance(doc, dict) else None
        if isinstance(steps, dict):
            return {s: k for s, k in steps.items() if isinstance(s, str) and isinstance(k, str)}
    return {}


def write_index(store: Store, pid: str, keys: dict[str, str], known: dict[str, str]) -> None:
    """Record ``keys`` (merged into the ``known`` index) in every writable remote layer."""
    steps = {**known, **keys}
    if steps == known:
        return
    data = json.dumps({"v": 1, "steps": steps}, sort_keys=True).encode()
    for layer in _remote_layers(store):
        if not layer.read_only:
            layer._pipe(_index_path(layer, pid), data)


def prefetch(store: Store, keys: list[str]) -> None:
    """Fetch the manifests of ``keys`` no layer has kept yet, concurrently (fsspec's batched
    ``cat``; missing ones are skipped), into each remote layer's manifest cache."""
    wanted = list(dict.fromkeys(keys))
    for layer in _remote_layers(store):
        cache = layer.manifest_cache
        if cache is None:
            continue
        wanted = [k for k in wanted if cache.get(k) is None]
        if not wanted:
            return
        paths = {layer._path(manifest_rel(k)): k for k in wanted}
        got = layer.fs.cat(list(paths), on_error="omit", **layer.small_read)
        found = set()
        for path, data in got.items():
            if path in paths and isinstance(data, bytes):
                cache.put(paths[path], data)
                found.add(paths[path])
        wanted = [k for k in wanted if k not in found]
