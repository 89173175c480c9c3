"""Remote manifests kept on local disk, by store and key, so a rerun asks the remote nothing.

A remote layer is read lazily: finding a key there reads its manifest only, never its blobs
(those are fetched, and checked against their hash, when a running step or the user needs
them). The manifest's bytes are kept under the local store at
``remote-manifests/<store id>/<key>.json`` and are checked (shape, signature) each time they
are read, exactly as if just downloaded. A step key names one computation, so what is kept
never goes stale; an entry whose data the remote lost is dropped when a fetch finds out.
A kept manifest's mtime says when it was last used (refreshed at most hourly), which is what
``cache gc`` trims by.
"""

from __future__ import annotations

import os
import time
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from amlrun.cache.base import manifest_rel
from amlrun.cache.files import atomic_write
from amlrun.cache.local import TOUCH_AFTER_S
from amlrun.hashing import hash_bytes

if TYPE_CHECKING:
    from amlrun.cache.base import Store

FOLDER = "remote-manifests"


class ManifestCache:
    """The kept manifests of one remote store (its URL without ``?ro`` names the folder)."""

    def __init__(self, local_root: Path, remote_url: str) -> None:
        url = remote_url.removesuffix("?ro")
        self.root = Path(local_root)
        self.dir = self.root / FOLDER / hash_bytes(url.encode())[:16]
        self._memory: dict[str, bytes] = {}  # what this process read, kept on disk or not

    def _path(self, key: str) -> Path:
        return self.dir / manifest_rel(key).removeprefix("steps/")

    def get(self, key: str) -> bytes | None:
        if key in self._memory:
            return self._memory[key]
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        with suppress(OSError):  # used now: what gc goes by
            if time.time() - path.stat().st_mtime > TOUCH_AFTER_S:
                os.utime(path)
        return data

    def put(self, key: str, data: bytes) -> None:
        """Keep ``data``; a full or read-only disk only costs the next run a request.

        Nothing is kept on disk where the store's folder has no parent yet (``status`` in a
        fresh clone must not create ``.amlrun/``): then only for this process.
        """
        self._memory[key] = data
        if not self.root.parent.is_dir():
            return
        with suppress(OSError):
            self.dir.mkdir(parents=True, exist_ok=True)
            atomic_write(os.fspath(self._path(key)), data, 0o644)

    def drop(self, key: str) -> None:
        self._memory.pop(key, None)
        with suppress(OSError):
            self._path(key).unlink()


def attach(store: Store, default_root: Path) -> None:
    """Give each remote layer of ``store`` a manifest cache under the first writable local
    layer (else under ``default_root``, the workspace's store folder)."""
    layers = getattr(store, "layers", None) or [store]
    local = next((s for s in layers if s.is_local and not s.read_only), None)
    root = Path(getattr(local, "root", default_root))
    for layer in layers:
        if hasattr(layer, "manifest_cache"):
            layer.manifest_cache = ManifestCache(root, layer.url)


def forget(store: Store, key: str) -> None:
    """Drop the kept manifest of ``key`` in every layer (its data turned out unusable)."""
    for layer in getattr(store, "layers", None) or [store]:
        cache = getattr(layer, "manifest_cache", None)
        if cache is not None:
            cache.drop(key)
