"""What a remote (team) cache knows about this pipeline before its keys are computed.

With a remote layer, a run first fetches, concurrently, the manifests of the keys it will
most likely look up (see :mod:`amlrun.cache.lastkeys`): the last run's keys here, or in a
fresh clone those in the team's index. The same manifests explain, in a fresh clone, why a
step must run: they carry the key components of the team's last run of each step, so
``status`` says "snapshot files changed: score.py" instead of "never run" (one explanation
path: :func:`amlrun.engine.key.explain_change`). A writer records its steps' keys in the
index after the run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amlrun.cache.manifest import warn
from amlrun.engine.state import StepOutcome

if TYPE_CHECKING:  # a store without a remote layer has no team index
    from amlrun.cache.lastkeys import Index
    from amlrun.cache.uploads import Uploads


class TeamCache:
    def __init__(self, store: Any, source: Path, root: Path, name: str) -> None:
        self.store = store
        layers = getattr(store, "layers", None) or [store]
        self.remote = any(not layer.is_local for layer in layers)
        self._identity = (Path(source), Path(root), name)
        self.index: Index | None = None  # the team's last key (and manifest) of each step
        self.last: dict[str, str] = {}  # step -> the key to explain a rerun against

    @property
    def id(self) -> str:
        """The pipeline's name in the team index: its file relative to the workspace, and
        its name."""
        from amlrun.cache.lastkeys import pipeline_id

        source, root, name = self._identity
        try:
            rel = source.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:  # a pipeline outside the workspace: its name in the folder
            rel = source.name
        return pipeline_id(f"{rel}:{name}")

    def prefetch(self, steps: list[str], last_keys: Callable[[], dict[str, str]]) -> None:
        """Fetch the likely manifests in one batch; the index only if this clone lacks keys
        (``last_keys``: those of the last run here, read only with a remote layer)."""
        if not self.remote:
            return
        from amlrun.cache.lastkeys import Index, prefetch, read_index

        local_last = last_keys()
        self.index = Index()
        try:  # a hint: a store that cannot answer is told by the lookups that follow
            if not set(steps) <= set(local_last):
                self.index = read_index(self.store, self.id)
            self.last = {**self.index.steps, **local_last}
            prefetch(self.store, [self.last[s] for s in steps if s in self.last], self.index)
        except OSError:
            return

    def previous(self, step: str) -> dict | None:
        """The manifest of ``step``'s last key in the team cache (kept locally: no request)."""
        key = self.index.steps.get(step) if self.index is not None else None
        return self.store.get_manifest(key) if key else None

    def record(self, outcomes: list[StepOutcome], manifests: dict[str, dict]) -> None:
        """After a run that stored results, a writer's index names each step's key and
        manifest (``manifests``: step -> its manifest, for every step reused or run)."""
        if not self.remote or not any(o.status == "ran" for o in outcomes):
            return
        layers = getattr(self.store, "layers", None) or [self.store]
        if all(layer.read_only for layer in layers if not layer.is_local):
            return
        good = {o.name for o in outcomes if o.status in ("ran", "reused")}
        done = {step: m for step, m in manifests.items() if step in good}
        from amlrun.cache.lastkeys import Index, write_index

        try:
            write_index(self.store, self.id, done, self.index or Index())
        except OSError as exc:  # the entries are stored; only the next clone's shortcut is lost
            warn(f"the pipeline index could not be written to store {self.store.url}: {exc}")


def confirm_uploads(uploads: Uploads | None, outcomes: list[StepOutcome], run_id: str) -> None:
    """Wait for the background uploads; a step whose entry did not reach a remote layer
    fails, naming the store (its local entry stays, so a push can finish the job)."""
    if uploads is None:
        return
    uploads.wait()
    for out in outcomes:
        url = uploads.lost.get(out.key or "")
        if url is not None and out.status == "ran":
            out.status = "failed"
            out.reason = (
                f"stored locally, but the upload to store {url} failed: {uploads.failed[url]}. "
                f"Fix the store's access, then run 'amlrun cache push --run {run_id}'"
            )
