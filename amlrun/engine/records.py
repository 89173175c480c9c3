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
    def __init__(self, amlrun_dir: Path, source: str) -> None:
        self.dir = amlrun_dir
        self.source = source  # the pipeline file: past runs are found by it
        self.run_id = ""
        self.db: Any = None
        self._last: dict[str, dict] | None = None

    def open(self) -> None:
        from amlrun.runs.db import RunDB

        self.db = RunDB(self.dir / "runs.sqlite")
        self._last = None

    def close(self) -> None:
        self.db.close()

    def start(self, pipeline_name: str) -> None:
        from amlrun.runs.module_run import new_run_id

        self.run_id = new_run_id()
        self.open()
        self.db.start_run(self.run_id, pipeline_name, self.source)

    def explain(self, step: str, parts: KeyParts, files: dict[str, str]) -> str:
        """Why ``step`` must run: what changed since the last run (``files``: its snapshot)."""
        if self._last is None:
            self._last = self.db.last_components(self.source)
        failed = self.db.last_failure(self.source, step, parts.key)
        if failed is not None:  # the same key failed last time: say where and why
            return f"failed in run {failed[0]}: {failed[1]}"
        old = self._last.get(step)
        before = self.db.tree_files(old["snapshot"]) if old and self.db else {}
        return explain_change(old, parts, (before, files))

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
        self, outcomes: list[StepOutcome], trees: dict[str, dict[str, str]], status: str
    ) -> None:
        """Record the snapshot file lists (for later explanations), every step, the status."""
        self.db.record_trees(trees)
        self.db.record_steps(self.run_id, [vars(o) for o in outcomes])
        self.db.finish_run(self.run_id, status)

    def abort(self, outcomes: list[StepOutcome], status: str) -> None:
        """Record what is known when the run stopped on an exception."""
        self.db.record_steps(self.run_id, [vars(o) for o in outcomes])
        self.db.finish_run(self.run_id, status)
