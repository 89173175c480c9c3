"""Each step's private mlflow file store: where it goes, and what the step logged there.

A step runs with ``MLFLOW_TRACKING_URI`` pointing at ``.amlrun/mlruns/<run id>/<step>``
unless the user chose a tracking URI (in the shell, the environment's or the step's
variables). The folder is per run and step, so the path never enters the step key (and
neither do the logged values): a run that logs a different value is still reused.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from amlrun.backends.job import TRACKING_URI, Job, JobResult
from amlrun.engine.keys import effective_env_vars
from amlrun.engine.records import Records
from amlrun.pipelines.model import Step
from amlrun.runs.metrics import StepMetrics, read_file_store
from amlrun.spec.names import folder_name


def tracking_dir(records: Records, step: Step) -> Path | None:
    """Where ``step``'s mlflow file store goes in this run; None if the user chose one."""
    assert step.module is not None
    chosen = {**os.environ, **dict(step.module.environment.variables), **effective_env_vars(step)}
    if chosen.get(TRACKING_URI):
        return None
    step_folder = folder_name(step.name.replace("/", "__"))
    return records.dir / "mlruns" / records.run_id / step_folder


def logged(job: Job, result: JobResult, store: Any, run_id: str) -> StepMetrics:
    """What ``job`` logged; a backend that ran elsewhere brought its file store back."""
    if job.tracking_dir is None:
        return StepMetrics()
    if result.tracking and not job.tracking_dir.exists():
        store.materialize(result.tracking, job.tracking_dir, False)
    return read_file_store(job.tracking_dir, run_id)
