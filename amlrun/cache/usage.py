"""``cache du``: what a store holds, read from its manifests (no blob is listed or read).

A blob shared by several entries (the same file output by two steps) counts once in its
layer's total and in full for each entry that needs it: "what would freeing this step
give back" and "how big is the store" are different questions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amlrun.cache.manifest import blob_sizes


@dataclass(frozen=True)
class EntryUsage:
    layer: str
    key: str
    step: str
    module: str
    bytes: int


@dataclass(frozen=True)
class LayerUsage:
    url: str
    entries: int
    bytes: int  # the distinct blobs its entries name


def usage(store: Any) -> tuple[list[LayerUsage], list[EntryUsage]]:
    """Per layer and per entry; an unusable manifest is left out (``verify`` reports it)."""
    layers: list[LayerUsage] = []
    rows: list[EntryUsage] = []
    for layer in getattr(store, "layers", None) or [store]:
        blobs: dict[str, int] = {}
        count = 0
        for key in sorted(layer.step_keys()):
            manifest = layer.get_manifest(key)
            if manifest is None:
                continue
            sizes = {h: size or 0 for h, size in blob_sizes(manifest).items()}
            blobs.update(sizes)
            count += 1
            step, module = str(manifest.get("step", "?")), str(manifest.get("module", "?"))
            rows.append(EntryUsage(layer.url, key, step, module, sum(sizes.values())))
        layers.append(LayerUsage(layer.url, count, sum(blobs.values())))
    return layers, rows
