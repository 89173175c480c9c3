"""Watching a running trial: the run's Ctrl-C and the sweep's early-termination policy.

The trial's mlflow file store is read while it runs (on backends that write it in place,
such as local); when the policy says the trial fell behind, the trial's own cancel event
stops it, and the step is reported as stopped, not failed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from amlrun.engine.sweep_policy import should_stop
from amlrun.engine.tracking import tracking_dir
from amlrun.pipelines.model import Step
from amlrun.runs.metrics import read_file_store

POLL_S = 0.25


class TrialStop(threading.Event):
    """A trial's cancel event, set on Ctrl-C or by the policy, saying which (see
    ``Executor.execute``); ``history`` is the metric history the policy judged."""

    def __init__(self) -> None:
        super().__init__()
        self.outcome = ("cancelled", "run interrupted")
        self.history: dict[int, float] = {}


@contextmanager
def watch_trial(executor: Any, sweep_step: Step, trial: Step, done: list) -> Iterator[TrialStop]:
    """The cancel event ``trial`` runs with, watched while the trial runs."""
    cancel, finished = TrialStop(), threading.Event()
    sweep = sweep_step.sweep
    assert sweep is not None
    folder = tracking_dir(executor.records, trial)
    finished_histories = [t.history for t in done]

    def follow() -> None:
        while not finished.wait(POLL_S):
            if executor.cancel.is_set():
                cancel.set()
                return
            if sweep.early_termination is None or folder is None or not finished_histories:
                continue
            metric = read_file_store(folder).metrics.get(sweep.primary_metric)
            history = dict(metric.history) if metric else {}
            at = should_stop(sweep.early_termination, sweep.maximize, history, finished_histories)
            if at is not None:
                cancel.history = history
                cancel.outcome = (
                    "stopped",
                    f"stopped early by the {sweep.early_termination.type} policy at step {at} "
                    f"({sweep.primary_metric}={history[at]:.6g})",
                )
                cancel.set()
                return

    watcher = threading.Thread(target=follow, name=f"watch-{trial.name}", daemon=True)
    watcher.start()
    try:
        yield cancel
    finally:
        finished.set()
        watcher.join()
