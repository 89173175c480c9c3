"""What a run leaves behind: its rows in ``runs.sqlite`` and its steps' logs.

The database is opened only when a run or a plan starts; the components recorded by the
last run are read only when some step must run, so a null run never pays for them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amlrun.engine.failures import describe, keep_traceback
from amlrun.engine.key import KeyParts, explain_change
from amlrun.engine.state import StepOutcome
from amlrun.errors import AmlrunError
from amlrun.spec.names import folder_name


class Records:
    def __init__(self, amlrun_dir: Path, source: str, invocation: dict | None = None) -> None:
        self.dir = amlrun_dir
        self.source = source  # the pipeline file: past runs are found by it
        self.invocation = invocation  # --set values and folder, for module debug
        self.run_id = ""
        self.db: Any = None
        self._last: dict[str, dict] | None = None
        self.team: Any = None  # engine/team.py: explains from the team's last run if set

    def open(self) -> None:
        from amlrun.runs.db import RunDB

        self.db = RunDB(self.dir / "runs.sqlite")
        self._last = None

    def close(self) -> None:
        self.db.close()

    def start(self, pipeline_name: str, run_id: str | None = None) -> None:
        """``run_id``: given by a caller that announced it before the run (the server)."""
        from amlrun.runs.db import new_run_id

        self.run_id = run_id or new_run_id()
        self.open()
        self.db.start_run(self.run_id, pipeline_name, self.source, self.invocation)

    def explain(self, step: str, parts: KeyParts, files: dict[str, str]) -> str:
        """Why ``step`` must run: what changed since the last run (``files``: its snapshot)."""
        if self._last is None:
            self._last = self.db.last_components(self.source)
        failed = self.db.last_failure(self.source, step, parts.key)
        if failed is not None:  # the same key failed last time: say where and why
            return f"failed in run {failed[0]}: {failed[1]}"
        old = self._last.get(step)
        before = self.db.tree_files(old["snapshot"]) if old and self.db else {}
        if old is None and self.team is not None:  # a fresh clone: the team's last run
            old, before = _components(self.team.previous(step))
        return explain_change(old, parts, (before, files))

    def last_keys(self) -> dict[str, str]:
        """Step -> its key in the last run recorded here (to prefetch their manifests)."""
        from amlrun.engine.key import KeyParts

        keys = {}
        for step, components in self.db.last_components(self.source).items():
            try:
                keys[step] = KeyParts(**components).key
            except TypeError:  # recorded by an amlrun whose keys had another shape
                continue
        return keys

    def log_path(self, step: str) -> Path:
        return self.dir / "logs" / self.run_id / f"{folder_name(step.replace('/', '__'))}.log"

    def write_log(self, step: str, data: bytes) -> Path:
        path = self.log_path(step)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def fail(self, out: StepOutcome, exc: Exception, prefix: str) -> None:
        """``out`` failed because of ``exc``; a bug's traceback goes to the step log."""
        out.status, out.reason = "failed", describe(exc)
        if not isinstance(exc, AmlrunError):
            log_path = self.log_path(out.name)
            keep_traceback(log_path, exc)
            out.log = str(log_path)
            out.reason = f"{prefix}{out.reason}; traceback in {log_path}"

    def finish(
        self,
        outcomes: list[StepOutcome],
        trees: dict[str, dict[str, str]],
        status: str,
        manifests: dict[str, dict],
    ) -> None:
        """Record the snapshot file lists (for later explanations), every step, what each
        step's manifest says it logged through mlflow, the status."""
        self.db.record_trees(trees)
        self.db.record_steps(self.run_id, [vars(o) for o in outcomes])
        tracked = {n: m["tracking"] for n, m in manifests.items() if m.get("tracking")}
        if tracked:  # most pipelines log nothing through mlflow
            from amlrun.runs.metrics import StepMetrics, record_step_metrics

            logged = {n: StepMetrics.from_json(t) for n, t in tracked.items()}
            record_step_metrics(self.db, self.run_id, logged)
        self.db.finish_run(self.run_id, status)

    def abort(self, outcomes: list[StepOutcome], status: str) -> None:
        """Record what is known when the run stopped on an exception."""
        self.db.record_steps(self.run_id, [vars(o) for o in outcomes])
        self.db.finish_run(self.run_id, status)


def _components(manifest: dict | None) -> tuple[dict | None, dict]:
    """(key components, snapshot files) a manifest recorded, as runs.sqlite would."""
    old = manifest.get("components") if isinstance(manifest, dict) else None
    if not isinstance(old, dict):
        return None, {}
    files = manifest.get("snapshot_files")  # type: ignore[union-attr]
    return old, files if isinstance(files, dict) else {}
