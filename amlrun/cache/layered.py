"""Stores stacked in order, typically ``[local, shared remote]``.

Reads try each layer in turn. A hit in a later layer costs its manifest only (kept locally,
see cache/manifest_cache.py); its blobs are pulled into the first local writable layer when
they are placed for a step or the user (read-through), so a fully reused pipeline downloads
no data. Writes go to every writable layer (write-back). A
read-only layer (an untrusted CI job reading the team's cache) is never written.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from amlrun.cache.base import MissingBlob, Placement, Store
from amlrun.cache.manifest import parse_manifest, referenced_blobs
from amlrun.cache.uploads import Uploads, active
from amlrun.errors import AmlrunError

if TYPE_CHECKING:
    from amlrun.cache.sample import Sample


class LayeredStore(Store):
    def __init__(self, layers: list[Store]) -> None:
        if not layers:
            raise AmlrunError("a layered store needs at least one layer")
        self.layers = list(layers)
        self.url = ",".join(layer.url for layer in self.layers)  # each says "?ro" if so
        self.writable = [layer for layer in self.layers if not layer.read_only]
        self.read_only = not self.writable
        self.is_local = self.layers[0].is_local
        #: the first writable local layer: blobs are pulled into it to be linked from there
        self._cache = next((s for s in self.writable if s.is_local), None)
        #: while a run goes (cache/uploads.py): remote writes queued in the background
        self.uploads: Uploads | None = active(self.url)

    def _writable_before(self, index: int) -> list[Store]:
        return [layer for layer in self.layers[:index] if not layer.read_only]

    def _source(self, h: str, skip: Store | None = None) -> Store:
        for layer in self.layers:
            if layer is not skip and layer.has_blob(h):
                return layer
        raise MissingBlob(f"blob {h} is in no layer of store {self.url}", (h,))

    def _pull(self, target: Store, hashes: list[str] | tuple[str, ...]) -> None:
        """Copy the blobs ``target`` lacks into it from whichever layer has them: those on
        local disk one by one, a remote layer's in one batch (fetched concurrently, each
        checked against its hash)."""
        batches: dict[int, list[str]] = {}
        for h in dict.fromkeys(hashes):
            if not target.has_blob(h):
                source = self._source(h, skip=target)
                batches.setdefault(self.layers.index(source), []).append(h)
        for index, batch in batches.items():
            source = self.layers[index]
            if source.is_local:
                for h in batch:
                    target._import_blob(h, source)
                continue
            import tempfile

            with tempfile.TemporaryDirectory(prefix="amlrun-blobs-") as folder:
                items = [(h, Path(folder, h), 0o644, None) for h in batch]
                source._place(items, copy=True)
                for h, path, _mode, _size in items:
                    target.put_file(path, h, move=True)

    # ------------------------------------------------------------ manifests
    def has_manifest(self, key: str) -> bool:
        return any(layer.has_manifest(key) for layer in self.layers)

    def get_manifest(self, key: str) -> dict | None:
        """The first layer's entry; read lazily: a hit in a later layer fetches no blob.

        Its blobs are pulled into the local layer when a step or the user needs them
        (:meth:`_place`), each checked against its hash then.
        """
        for layer in self.layers:
            manifest = layer.get_manifest(key)
            if manifest is not None:
                return manifest
        return None

    def step_keys(self) -> list[str]:
        return sorted({key for layer in self.layers for key in layer.step_keys()})

    def put_manifest(self, key: str, manifest: dict) -> None:
        """Every writable layer first gets the blobs only another layer has."""
        self._check_writable()
        known = [h for h in referenced_blobs(manifest) if self.has_blob(h)]
        for layer in self._now_and_later()[0]:  # queued layers get theirs when it is written
            self._pull(layer, known)
        super().put_manifest(key, manifest)  # refuses blobs no layer has; then writes each

    def _write_manifest(self, key: str, data: bytes) -> None:
        now, later = self._now_and_later()
        for layer in now:
            layer._write_manifest(key, data)
        for layer in later:  # after the blobs queued before it (one thread, in order)
            self._queue(layer, partial(self._upload_entry, layer, key, data), key)

    def _upload_entry(self, layer: Store, key: str, data: bytes) -> None:
        self._pull(layer, list(referenced_blobs(parse_manifest(data, key))))
        layer._write_manifest(key, data)

    def _now_and_later(self) -> tuple[list[Store], list[Store]]:
        """(writable layers written at once, remote ones whose writes are queued)."""
        if self.uploads is None:
            return self.writable, []
        return (
            [layer for layer in self.writable if layer.is_local],
            [layer for layer in self.writable if not layer.is_local],
        )

    def _queue(self, layer: Store, write: Callable[[], object], key: str | None = None) -> None:
        assert self.uploads is not None
        self.uploads.submit(layer.url, write, key)

    # ------------------------------------------------------------ blobs
    def has_blob(self, h: str) -> bool:
        return any(layer.has_blob(h) for layer in self.layers)

    def put_file(self, path: Path, h: str | None = None, move: bool = False) -> str:
        """The first writable layer may take a moved file; the others copy it from there."""
        self._check_writable()
        now, later = self._now_and_later()
        for layer in now:
            h = layer.put_file(path, h, move)
            if move:
                path = layer.local_blob_path(h) or path
                move = False
        for layer in later:  # from the local layer's copy, which stays
            assert h is not None
            src = now[0].local_blob_path(h) or path
            self._queue(layer, partial(layer.put_file, src, h))
        assert h is not None
        return h

    def put_bytes(self, data: bytes) -> str:
        self._check_writable()
        now, later = self._now_and_later()
        for layer in now:
            h = layer.put_bytes(data)
        for layer in later:
            self._queue(layer, partial(layer.put_bytes, data))
        return h

    def get_bytes(self, h: str) -> bytes:
        for index, layer in enumerate(self.layers):
            try:
                data = layer.get_bytes(h)
            except MissingBlob:
                continue
            for earlier in self._writable_before(index):
                earlier.put_bytes(data)
            return data
        raise MissingBlob(f"blob {h} is in no layer of store {self.url}", (h,))

    def local_blob_path(self, h: str) -> Path | None:
        for layer in self.layers:
            path = layer.local_blob_path(h) if layer.is_local else None
            if path is not None:
                return path
        if self._cache is None or not self.has_blob(h):
            return None
        self._pull(self._cache, (h,))
        return self._cache.local_blob_path(h)

    def _place(self, items: list[Placement], copy: bool = False) -> None:
        """Through the local writable layer when there is one (pulling in what it lacks)."""
        if self._cache is not None:
            self._pull(self._cache, [h for h, _, _, _ in items])
            self._cache._place(items, copy)
            return
        groups: dict[int, list[Placement]] = {}
        for item in items:
            groups.setdefault(self.layers.index(self._source(item[0])), []).append(item)
        for index, group in groups.items():
            self.layers[index]._place(group, copy)

    # ------------------------------------------------------------ maintenance
    def verify(self, repair: bool = False, sample: Sample | None = None) -> list[str]:
        """Every layer; ``repair`` mends the writable ones and only reports the others."""
        return [
            f"{layer.url}: {p}"
            for layer in self.layers
            for p in layer.verify(repair and not layer.read_only, sample)
        ]

    def gc(self, older_than_s: float, keep: frozenset[str] = frozenset()) -> tuple[int, int]:
        """Trims the writable layers; read-only ones belong to someone else."""
        self._check_writable()
        counts = [layer.gc(older_than_s, keep) for layer in self.writable]
        return sum(m for m, _ in counts), sum(b for _, b in counts)
