"""Writes to a layered store's remote layers in the background, confirmed before success.

During a run the local layer is written at once (the next step reads from it) and every
write meant for a remote writable layer is queued, in order, on one background thread: a
step's blobs, then its manifest, go up while the next step runs. The run waits for the queue
before it reports (:meth:`Uploads.wait`); a failed upload fails the steps whose entries did
not reach the store, naming it, and the local entries stay. After a layer's first failure
nothing more is written to it, so it never gets a manifest whose blobs did not arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from amlrun.errors import AmlrunError

if TYPE_CHECKING:
    from concurrent.futures import Future

#: store URL -> the queue of the run using it in this process
_ACTIVE: dict[str, Uploads] = {}


class Uploads:
    def __init__(self) -> None:
        from concurrent.futures import ThreadPoolExecutor  # only runs with a remote layer

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="amlrun-upload")
        self._pending: list[Future] = []
        self.failed: dict[str, str] = {}  # layer url -> what failed first
        self.lost: dict[str, str] = {}  # step key -> url of the layer that lacks its entry

    def submit(self, url: str, write: Callable[[], object], key: str | None = None) -> None:
        """Queue ``write`` to layer ``url`` (``key``: it records that step's manifest)."""

        def task() -> None:
            if url not in self.failed:
                try:
                    write()
                    return
                except Exception as exc:  # any failure: reported with the store's name
                    self.failed[url] = _describe(exc)
            if key is not None:
                self.lost[key] = url

        self._pending.append(self._pool.submit(task))

    def wait(self) -> None:
        """Block until every queued write is done (or skipped after a failure)."""
        while self._pending:
            self._pending.pop(0).result()

    def close(self) -> None:
        self.wait()
        self._pool.shutdown()


@contextmanager
def background_uploads(store: Any) -> Iterator[Uploads | None]:
    """Queue the remote writes of ``store`` while the block runs (a layered store with a
    writable local layer and a writable remote one; else None and nothing changes)."""
    layers = getattr(store, "layers", None)
    remote = [s for s in layers or [] if not s.is_local and not s.read_only]
    local = [s for s in layers or [] if s.is_local and not s.read_only]
    if not (remote and local):
        yield None
        return
    uploads = Uploads()
    store.uploads = _ACTIVE[store.url] = uploads
    try:
        yield uploads
    finally:
        store.uploads = None
        _ACTIVE.pop(store.url, None)
        uploads.close()


def active(url: str) -> Uploads | None:
    """The queue of a run going on in this process on the store at ``url``: a backend that
    opens the store by URL (the local one stores outputs so) queues its remote writes there."""
    return _ACTIVE.get(url)


def _describe(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if isinstance(exc, AmlrunError) else f"{type(exc).__name__}: {text}"
