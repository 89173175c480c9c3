"""The scheduler inside ``amlrun serve``: a thread of the server process polls the
workspace's schedules; a published pipeline's firing is submitted through the run queue
(checked, persisted, run by the dispatcher's workers), a pipeline file's runs in a
subprocess as with ``amlrun scheduler``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from amlrun.schedules.book import Book
from amlrun.schedules.launch import ProcessLauncher, job_inputs, summary
from amlrun.schedules.model import Schedule
from amlrun.schedules.published_run import published_ref
from amlrun.schedules.scheduler import Report, Scheduler
from amlrun.server import queue
from amlrun.server.queue import Submission

WATCH_S = 1.0  # how often a queued firing's status is looked at


class QueueLauncher:
    def __init__(self, state: Any) -> None:
        self.state = state
        self.files = ProcessLauncher(state.root)

    def __call__(self, schedule: Schedule, tick: str, report: Report) -> None:
        if not schedule.job.published:
            self.files(schedule, tick, report)
            return
        from amlrun.registry.pipelines import find_version, pipeline_registry

        name, version = published_ref(schedule.job.pipeline)
        declared = find_version(pipeline_registry(self.state.root), name, version).interface
        values = job_inputs(schedule, tick)
        data = {k: v for k, v in values.items() if k in declared["inputs"]}
        params = {k: v for k, v in values.items() if k not in data}
        run_id = self.state.submit(
            Submission(name, version, params, data),
            by=f"schedule:{schedule.name}",
            idempotency_key=f"schedule:{schedule.name}:{tick}",
        )
        report(run_id, "queued")
        threading.Thread(target=self._follow, args=(run_id, report), daemon=True).start()

    def _follow(self, run_id: str, report: Report) -> None:
        last = "queued"
        while True:
            row = queue.get(self.state.amlrun_dir, run_id)
            status = row.status if row is not None else "failed"
            if row is None or status in queue.FINAL:
                report(
                    run_id, f"{status} ({summary(queue.steps_of(self.state.amlrun_dir, run_id))})"
                )
                return
            if status != last:
                report(run_id, status)
                last = status
            threading.Event().wait(WATCH_S)


def start_schedules(state: Any, every: float = 1.0) -> Callable[[], None]:
    """Start the server's scheduler thread; returns what stops it."""
    import sys

    book = Book(state.amlrun_dir / "schedules.sqlite")
    scheduler = Scheduler(book, QueueLauncher(state), log=lambda line: print(line, file=sys.stderr))
    stop = threading.Event()
    thread = threading.Thread(
        target=scheduler.serve, args=(stop, every), name="amlrun-schedules", daemon=True
    )
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=10)
        book.close()

    return halt
