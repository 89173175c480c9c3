"""The team's last key of each pipeline step, with its manifest: a plan's manifests in one go.

A step's key depends on its upstream manifests, so a chain's keys are known one after the
other, and asking a remote store one manifest at a time costs one round trip per step. The
manifests a run will most likely look up are known before it starts: those of the last run's
keys here (runs.sqlite), or in a fresh CI clone those the trusted writer recorded in the
store's gzipped index ``pipelines/<pipeline id>.json.gz`` (each step's manifest as stored,
which names its step and key; the id hashes the pipeline file's path inside the repository
and its name, so every clone shares it): one request for the whole plan. What the index
lacks is fetched concurrently, one batch per remote layer; all of it is kept locally
(cache/manifest_cache.py), so the lookups that follow cost no request. The index is a hint:
each manifest in it is checked (shape, key, signature) exactly like one read from
``steps/``, and a step it gets wrong just asks the store as before.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from amlrun.cache.base import manifest_rel
from amlrun.cache.signing import signed
from amlrun.hashing import hash_bytes

if TYPE_CHECKING:
    from amlrun.cache.base import Store

#: unpacked size an index may have (about 100,000 steps' manifests)
MAX_INDEX = 128 * 1024 * 1024


def pipeline_id(identity: str) -> str:
    """The index name of a pipeline: a hash of ``identity``, its file's path relative to the
    workspace and its name (two repositories sharing a store rarely share both)."""
    return hash_bytes(identity.replace("\\", "/").encode())[:16]


def _remote_layers(store: Store) -> list[Any]:
    layers = getattr(store, "layers", None) or [store]
    return [layer for layer in layers if not layer.is_local and hasattr(layer, "fs")]


def _index_path(layer: Any, pid: str) -> str:
    return layer._path(f"pipelines/{pid}.json.gz")


def _unpacked(data: bytes) -> Any:
    """The index's JSON; a bomb (more than ``MAX_INDEX`` unpacked) reads as unreadable."""
    unpack = zlib.decompressobj(wbits=31)  # gzip
    text = unpack.decompress(data, MAX_INDEX)
    if unpack.unconsumed_tail:
        raise ValueError("index too large")
    return json.loads(text)


@dataclass(frozen=True)
class Index:
    """A pipeline's index: step -> the writer's last key, and those keys' manifests."""

    steps: dict[str, str] = field(default_factory=dict)
    manifests: dict[str, bytes] = field(default_factory=dict)  # key -> manifest as stored
    layer: Any = None  # the remote layer it was read from


def read_index(store: Store, pid: str) -> Index:
    """The first remote layer's index of pipeline ``pid`` (empty if none or unreadable)."""
    for layer in _remote_layers(store):
        try:
            doc = _unpacked(layer.fs.cat_file(_index_path(layer, pid), **layer.small_read))
        except (OSError, ValueError, zlib.error):
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("manifests"), list):
            continue
        found = [m for m in doc["manifests"] if isinstance(m, dict)]
        manifests = {str(m.get("key")): json.dumps(m).encode() for m in found}
        steps = _named(found)
        renamed = doc.get("steps") if isinstance(doc.get("steps"), dict) else {}
        steps.update((s, k) for s, k in renamed.items() if _names(s, k))
        return Index(steps, manifests, layer)
    return Index()


def write_index(store: Store, pid: str, manifests: dict[str, dict], known: Index) -> None:
    """Record, in every writable remote layer, each step's key and its manifest (step ->
    manifest as stored), unless the ``known`` index already says exactly that."""
    steps = {step: m["key"] for step, m in manifests.items()}
    if steps == known.steps:
        return
    unique = list({m["key"]: signed(m) for m in manifests.values()}.values())  # as stored
    named = _named(unique)
    doc = {
        "v": 1,
        "manifests": unique,
        # a manifest names the step that stored it; only what that does not say is listed
        "steps": {s: m["key"] for s, m in manifests.items() if named.get(s) != m["key"]},
    }
    data = gzip.compress(json.dumps(doc, separators=(",", ":")).encode(), mtime=0)
    for layer in _remote_layers(store):
        if not layer.read_only:
            layer._pipe(_index_path(layer, pid), data)


def prefetch(store: Store, keys: list[str], index: Index) -> None:
    """Keep the manifests of ``keys`` no layer has kept yet: from the ``index`` (no request)
    if it has them, else fetched concurrently (fsspec's batched ``cat``; missing ones are
    skipped), into each remote layer's manifest cache. Each is checked when read."""
    wanted = list(dict.fromkeys(keys))
    for layer in _remote_layers(store):
        cache = layer.manifest_cache
        if cache is None:
            continue
        if layer is index.layer:
            for key in wanted:
                if key in index.manifests and cache.get(key) is None:
                    cache.put(key, index.manifests[key])
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


def _names(step: object, key: object) -> bool:
    return isinstance(step, str) and isinstance(key, str)


def _named(manifests: list[dict]) -> dict[str, str]:
    """step -> key for the step names exactly one of ``manifests`` carries."""
    names = Counter(m.get("step") for m in manifests)
    return {
        m["step"]: m["key"]
        for m in manifests
        if _names(m.get("step"), m.get("key")) and names[m["step"]] == 1
    }
