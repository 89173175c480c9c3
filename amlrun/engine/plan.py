"""The plan: the pipeline's steps with the keys known so far and why each would run.

A key is computed when a step's upstream manifests are known. ``decide`` is the one reuse
decision, asked by execution (doit's ``uptodate``) and by planning (``status``,
``run --dry-run``) alike.
"""

from __future__ import annotations

from typing import Any

from amlrun.backends.env_notes import local_notes
from amlrun.engine.compute import Backends
from amlrun.engine.key import KeyParts
from amlrun.engine.keys import KeyCalculator
from amlrun.engine.records import Records
from amlrun.engine.state import StepOutcome
from amlrun.errors import AmlrunError
from amlrun.pipelines.model import Pipeline, Step


class Plan:
    def __init__(
        self,
        pipeline: Pipeline,
        *,
        store: Any,
        keys: KeyCalculator,
        backends: Backends,
        records: Records,
        force: set[str],
    ) -> None:
        self.pipeline = pipeline
        self.store = store
        self.keys = keys
        self.backends = backends
        self.records = records
        self.force = force
        self.outcomes = {name: StepOutcome(name) for name in pipeline.steps}
        self.manifests: dict[str, dict] = {}  # step -> its manifest, once reused or run
        self.parts: dict[str, KeyParts] = {}
        #: snapshot tree hash -> {relpath: file hash}, recorded so status can name changed files
        self.snapshot_files: dict[str, dict[str, str]] = {}
        self._noted: dict[int, object] = {}  # id -> environment whose local notes were taken

    def forced(self, step: Step) -> str | None:
        """Why ``step`` runs whatever the store holds, or None."""
        if step.name in self.force:
            return "forced with --force"
        if self.pipeline.force_rerun:
            return "settings.force_rerun is true"
        if step.force_rerun:
            return "allow_reuse is false"
        if step.module is not None and not step.module.is_deterministic:
            return "module is not deterministic (is_deterministic: false)"
        return None

    def key(self, step: Step) -> KeyParts:
        """Compute ``step``'s key (its upstream manifests must be known) and record it."""
        backend = self.backends.for_step(step)
        env = step.module.environment
        if backend.name == "local" and id(env) not in self._noted:  # once per environment
            self._noted[id(env)] = env  # kept, so its id stays its own
            for note in local_notes(env):
                self.backends.note(note)
        parts = self.keys.parts(step, backend, self.manifests)
        out = self.outcomes[step.name]
        out.key = parts.key
        out.components = parts.as_dict()
        out.components_json = parts.components_json
        self.parts[step.name] = parts
        snap = self.keys.snapshot(step.module.code)
        if snap.tree_hash not in self.snapshot_files:  # once per tree, not once per step
            self.snapshot_files[snap.tree_hash] = {f.relpath: f.hash for f in snap.files}
        return parts

    def stored(self, step: Step, key: str) -> dict | None:
        """The manifest a step may reuse: stored under ``key`` and the step not forced."""
        if self.forced(step) is not None:
            return None
        return self.store.find(key, [o.name for o in step.module.outputs])

    def decide(self, step: Step, parts: KeyParts) -> bool:
        """Reuse ``step`` (True) or say in its outcome why it must run (False)."""
        out = self.outcomes[step.name]
        manifest = self.stored(step, parts.key)
        if manifest is not None:
            self.manifests[step.name] = manifest
            out.status, out.reason = "reused", "key found in store"
            out.duration_s = 0.0
            return True
        files = self.snapshot_files.get(parts.snapshot, {})
        out.reason = self.forced(step) or self.records.explain(step.name, parts, files)
        return False

    def dry_run(self) -> list[StepOutcome]:
        """What a run would do, without running: reused, would run (and why), or unknown."""
        unknown: set[str] = set()
        for name, step in self.pipeline.steps.items():
            out = self.outcomes[name]
            if not self._plan_step(step, out, unknown):
                unknown.add(name)
        return list(self.outcomes.values())

    def _plan_step(self, step: Step, out: StepOutcome, unknown: set[str]) -> bool:
        """Plan one step; False when its key or its reuse cannot be known before running."""
        problem = step.blocked or next(
            (f"input {k}: {b.value}" for k, b in step.bindings.items() if b.kind == "cloud"),
            None,
        )
        if problem:
            out.status, out.reason = "blocked", problem
            return False
        if step.sweep is not None:
            out.status, out.reason = "unknown", "a sweep: its trials are keyed when it runs"
            return False
        waiting = [u for u in sorted(step.upstream()) if u in unknown]
        if waiting:
            out.status = "unknown"
            out.reason = f"depends on upstream ({waiting[0]} will run)"
            return False
        try:
            parts = self.key(step)
        except AmlrunError as exc:
            out.status, out.reason = "blocked", str(exc)
            return False
        if self.decide(step, parts):
            return True
        out.status = "would-run"
        if step.module.kind == "parallel":
            from amlrun.parallel.status import batches_to_run

            out.reason += f"; {batches_to_run(step, self)}"
        return False
