"""Starting a schedule's job in a subprocess: ``amlrun run PIPELINE --set inputs.… --set
settings.…``, or a run of a published pipeline's frozen checkout.

A run in its own process cannot take the scheduler down with it, and records itself in
``runs.sqlite`` exactly as a run typed by hand; its JSON result gives the run id and what was
reused. ``${{name}}`` in ``create_job.inputs`` is the job's name (schedule and tick) and
``${{creation_context.trigger_time}}`` the tick, as in Azure ML.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from amlrun.schedules.model import Schedule
from amlrun.schedules.published_run import published_ref
from amlrun.schedules.scheduler import Report

_EXPR = re.compile(r"\$\{\{\s*([A-Za-z_.]+)\s*\}\}")


def job_name(schedule: Schedule, tick: str) -> str:
    return f"{schedule.name}-{re.sub(r'[^0-9T]', '', tick)}"


def job_inputs(schedule: Schedule, tick: str) -> dict[str, Any]:
    """The job's inputs with the schedule expressions filled in; data given as ``{type,
    path}`` is its path, which is how a run's input is overridden."""
    values = {"name": job_name(schedule, tick), "creation_context.trigger_time": tick}

    def fill(value: Any) -> Any:
        if isinstance(value, str):
            return _EXPR.sub(lambda m: str(values.get(m.group(1), m.group(0))), value)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value

    out = {k: fill(v) for k, v in schedule.job.inputs.items()}
    return {k: v["path"] if isinstance(v, dict) and "path" in v else v for k, v in out.items()}


def run_command(schedule: Schedule, tick: str, root: Path) -> list[str]:
    """The command line of one firing: ``amlrun run`` for a pipeline file, a run of the
    frozen checkout for a published pipeline."""
    values = {f"inputs.{k}": v for k, v in job_inputs(schedule, tick).items()}
    values.update({f"settings.{k}": v for k, v in schedule.job.settings.items()})
    if schedule.job.published:
        name, version = published_ref(schedule.job.pipeline)
        plain = {k.removeprefix("inputs."): v for k, v in values.items()}
        module = "amlrun.schedules.published_run"
        return [sys.executable, "-m", module, str(root), name, version or "", json.dumps(plain)]
    sets = []
    for name, value in values.items():
        sets += ["--set", f"{name}={json.dumps(value)}"]  # JSON is YAML: a string stays one
    main = "from amlrun.cli.main import main; main()"
    return [sys.executable, "-c", main, "run", schedule.job.pipeline, "--json", *sets]


def outcome(returncode: int, stdout: str, stderr: str) -> tuple[str | None, str]:
    """(run id, outcome) from ``amlrun run --json``: "succeeded (3 reused)", "failed (…)"."""
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if not lines:
        last = (stderr.strip().splitlines() or [f"exit status {returncode}"])[-1]
        return None, f"failed: {last[:300]}"
    result = json.loads(lines[-1])
    status = "succeeded" if returncode == 0 else "failed"
    return result.get("run_id"), f"{status} ({summary(result.get('steps', []))})"


def summary(steps: list[dict[str, Any]]) -> str:
    """How many steps ran, were reused, failed...: "4 reused", "1 ran, 3 reused"."""
    counts: dict[str, int] = {}
    for step in steps:
        counts[step["status"]] = counts.get(step["status"], 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


class ProcessLauncher:
    """Each firing is an ``amlrun run`` subprocess in workspace ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._threads: list[threading.Thread] = []

    def __call__(self, schedule: Schedule, tick: str, report: Report) -> None:
        env = {**os.environ, "AMLRUN_WORKSPACE": str(self.root)}
        proc = subprocess.Popen(
            run_command(schedule, tick, self.root),
            cwd=self.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        report(None, "running")

        def wait() -> None:
            out, err = proc.communicate()
            report(*outcome(proc.returncode, out, err))

        thread = threading.Thread(target=wait, name=f"amlrun-{schedule.name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def wait(self) -> None:
        """Until every run started so far has finished (``amlrun scheduler --once``)."""
        for thread in self._threads:
            thread.join()
        self._threads.clear()
