"""Running a pipeline for a test: the plain-Python part of the pytest plugin.

A test asks for a run and gets values it can assert on: each step's status, why it ran, its
key, and any output on demand, restored from the store into the test's own folder (only the
outputs a test opens are fetched). An expectation (``--amlrun-expect-reuse`` and the
``amlrun_reruns`` marker) is checked on the plan first, so a step that should have been
reused fails the test before it spends time running.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amlrun.engine.expect import Expectation, failure
from amlrun.errors import AmlrunError

MARKER = "amlrun_reruns"


@dataclass(frozen=True)
class StepResult:
    name: str
    status: str  # ran | reused | failed | skipped | cancelled
    reason: str  # why it ran, as ``amlrun status`` says it; "key found in store" if reused
    key: str | None


@dataclass(frozen=True)
class PipelineResult:
    run_id: str
    steps: dict[str, StepResult]
    outputs: dict[str, Path]  # pipeline outputs placed where ``outputs=`` asked
    _manifests: dict[str, dict] = field(repr=False)
    _store: Any = field(repr=False)
    _folder: Path = field(repr=False)

    @property
    def ran(self) -> set[str]:
        return {n for n, s in self.steps.items() if s.status == "ran"}

    @property
    def reused(self) -> set[str]:
        return {n for n, s in self.steps.items() if s.status == "reused"}

    def output(self, step: str, name: str) -> Path:
        """Output ``name`` of ``step``, restored (read-only) under the test's folder once."""
        dest = self._folder / step / name
        if dest.exists():
            return dest
        manifest = self._manifests.get(step)
        if manifest is None or name not in manifest["outputs"]:
            have = sorted((manifest or {}).get("outputs", {}))
            raise AmlrunError(
                f"step {step!r} has no stored output {name!r} (status "
                f"{self.steps[step].status if step in self.steps else 'unknown step'}); "
                f"stored outputs: {', '.join(have) or 'none'}"
            )
        out = manifest["outputs"][name]
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._store.materialize(out["entries"], dest, out["is_file"])
        return dest


def run_pipeline(
    pipeline: str | Path,
    *,
    folder: Path,
    inputs: Mapping[str, Any] | None = None,
    outputs: Mapping[str, str | Path] | None = None,
    store: str | None = None,
    may_rerun: Collection[str] | None = None,
) -> PipelineResult:
    """Run ``pipeline`` incrementally in its workspace; ``folder`` receives restored outputs.

    ``may_rerun``: the only steps allowed to run, every other one must be reused (None: no
    check); a break raises :class:`~amlrun.engine.expect.ExpectationFailed`.
    """
    from amlrun.cache.store import open_store
    from amlrun.engine.runner import Engine
    from amlrun.loading import load_pipeline
    from amlrun.workspace import Workspace

    path = Path(pipeline).resolve()
    ws = Workspace.find(path.parent)
    p = load_pipeline(path, dict(inputs or {}), config=ws.config, cache_dir=ws.dir / "plans")
    st = open_store(store or ws.config.get("store"), ws.root, link=ws.config.get("link"))
    expectation = Expectation(None)
    if may_rerun is not None:
        expectation = Expectation.allowing(p.steps, may_rerun, f"@pytest.mark.{MARKER}")

    def engine() -> Engine:
        wanted = {k: str(v) for k, v in (outputs or {}).items()}
        return Engine(p, workspace=ws, store=st, output_paths=wanted)

    if expectation.active and (problems := expectation.plan_violations(engine().plan())):
        raise failure(problems, "before running")
    runner = engine()
    result = runner.run()
    if problems := expectation.run_violations(result.steps):
        raise failure(problems, "after the run")
    steps = {s.name: StepResult(s.name, s.status, s.reason, s.key) for s in result.steps}
    return PipelineResult(result.run_id, steps, result.outputs, runner.manifests, st, folder)
