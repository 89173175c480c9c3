"""The scheduler inside ``amlrun serve``, as one of the server's services: a thread polls
the workspace's schedules and submits each firing through the run queue (checked,
persisted, run by the dispatcher's workers, listed with the server's other runs)."""

from __future__ import annotations

import sys
import threading
from typing import Any

from amlrun.schedules.book import Book
from amlrun.schedules.launch import job_inputs, summary
from amlrun.schedules.model import Schedule
from amlrun.schedules.published_run import published_ref
from amlrun.schedules.scheduler import Report, Scheduler
from amlrun.server import queue
from amlrun.server.queue import Submission

WATCH_S = 1.0  # how often a queued firing's status is looked at


def submission(root: Any, schedule: Schedule, tick: str) -> Submission:
    """The queue entry of one firing: a published pipeline, or the pipeline file (relative
    to the workspace root); the inputs split into data inputs and parameters as declared."""
    from pathlib import Path

    from amlrun.published import interface_of

    job = schedule.job
    if job.published:
        from amlrun.registry.pipelines import find_version, pipeline_registry

        name, version = published_ref(job.pipeline)
        declared, file = find_version(pipeline_registry(root), name, version).interface, None
    else:
        name, version = Path(job.pipeline).stem, None
        declared, file = interface_of(Path(job.pipeline)), str(Path(job.pipeline).relative_to(root))
    values = job_inputs(schedule, tick)
    data = {k: v for k, v in values.items() if k in declared["inputs"]}
    params = {k: v for k, v in values.items() if k not in data}
    return Submission(name, version, params, data, file=file, settings=dict(job.settings))


class QueueLauncher:
    def __init__(self, state: Any) -> None:
        self.state = state

    def __call__(self, schedule: Schedule, tick: str, report: Report) -> None:
        run_id = self.state.submit(
            submission(self.state.root.resolve(), schedule, tick),
            by=f"schedule:{schedule.name}",
            idempotency_key=f"schedule:{schedule.name}:{tick}",
        )
        report(run_id, "queued")
        self.follow(run_id, report)

    def follow(self, run_id: str, report: Report) -> None:
        """Report the queued run's status as it changes, until it is final (a thread)."""
        threading.Thread(target=self._follow, args=(run_id, report), daemon=True).start()

    def _follow(self, run_id: str, report: Report) -> None:
        last = "queued"
        while True:
            row = queue.get(self.state.amlrun_dir, run_id)
            status = row.status if row is not None else "failed"
            if row is None or status in queue.FINAL:
                steps = queue.steps_of(self.state.amlrun_dir, run_id)
                report(run_id, f"{status} ({summary(steps)})")
                return
            if status != last:
                report(run_id, status)
                last = status
            threading.Event().wait(WATCH_S)


class SchedulerService:
    """``create_app(..., services=[SchedulerService()])``: schedules fire while it serves."""

    def __init__(self, every: float = 1.0) -> None:
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._book: Book | None = None

    def start(self, state: Any) -> None:
        self._book = Book(state.amlrun_dir / "schedules.sqlite")
        log = lambda line: print(f"amlrun serve: {line}", file=sys.stderr, flush=True)  # noqa: E731
        launcher = QueueLauncher(state)
        scheduler = Scheduler(self._book, launcher, log=log)
        for schedule, tick, run_id in self._book.following():  # queued before a restart
            launcher.follow(run_id, scheduler.report_to(schedule, tick))
        self._thread = threading.Thread(
            target=scheduler.serve, args=(self._stop, self.every), name="amlrun-schedules"
        )
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._book is not None:
            self._book.close()
