"""Moving entries between stores: ``amlrun cache push`` and ``amlrun cache pull``.

An entry is copied only as a reader would use it: its manifest read (shape, signature and,
on a local source, blobs checked), its blobs copied before the manifest, each blob re-hashed
when it comes from a remote. The destination writes the manifest itself, so it is signed with
the pushing job's secret, which is the point of pushing from a trusted job.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from amlrun.cache.base import Store
from amlrun.cache.layered import LayeredStore
from amlrun.cache.manifest import referenced_blobs
from amlrun.cache.store import READ_ONLY_SUFFIX, open_store
from amlrun.errors import SpecError


@dataclass(frozen=True)
class Transfer:
    copied: tuple[str, ...]  # keys written to the destination
    present: tuple[str, ...]  # keys the destination already had
    unusable: tuple[str, ...]  # keys the source lacks or could not vouch for (warned)

    def summary(self, verb: str) -> str:
        return f"{verb} {len(self.copied)} entries; {len(self.present)} already there" + (
            f"; {len(self.unusable)} missing or unusable in the source" if self.unusable else ""
        )


def copy_entries(src: Store, dst: Store, keys: Iterable[str]) -> Transfer:
    copied: list[str] = []
    present: list[str] = []
    unusable: list[str] = []
    for key in dict.fromkeys(keys):
        if dst.has_manifest(key):
            present.append(key)
            continue
        manifest = src.get_manifest(key)
        if manifest is None:
            unusable.append(key)
            continue
        for h in referenced_blobs(manifest):
            if not dst.has_blob(h):
                dst._import_blob(h, src)
        dst.put_manifest(key, manifest)
        copied.append(key)
    return Transfer(tuple(copied), tuple(present), tuple(unusable))


def own_and_shared(spec: str | None, workspace: Path, other: str | None) -> tuple[Store, Store]:
    """(the workspace's own layer, the shared store): ``other`` if given, else the layers
    after the first of ``spec``, their ``?ro`` dropped: pushing is an explicit write, and the
    job's credentials decide whether it may."""
    store = open_store(spec, workspace)
    own = store.layers[0] if isinstance(store, LayeredStore) else store
    if other:
        return own, open_store(other, workspace)
    if not isinstance(store, LayeredStore):
        raise SpecError(
            f"store {store.url} has no shared layer to move entries to or from",
            field="--to / --from",
            fix="name the shared store (--to s3://team/cache), or configure layers: "
            'store = ".amlrun/cache,s3://team/cache?ro"',
        )
    shared = [layer.url.removesuffix(READ_ONLY_SUFFIX) for layer in store.layers[1:]]
    return own, open_store(",".join(shared), workspace)
