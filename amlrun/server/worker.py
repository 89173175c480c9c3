"""One queued run in its own process: ``python -m amlrun.server.worker ROOT RUN_ID``.

The dispatcher starts it and sends SIGINT to cancel (the engine then kills its steps' process
groups and records them ``cancelled``). While the engine runs, :class:`LiveReporter` writes
each step's state to the server database and its output lines to a live log file, which the
API streams; the run's own record goes to ``runs.sqlite`` under the same id as always.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from amlrun.server import queue
from amlrun.workspace import Workspace


def live_log(amlrun_dir: Path, run_id: str, step: str) -> Path:
    """Where a running step's output is appended as it comes."""
    from amlrun.spec.names import folder_name

    return amlrun_dir / "server" / "live" / run_id / f"{folder_name(step.replace('/', '__'))}.log"


class LiveReporter:
    """The engine's reporter interface (see engine/report.py), writing for the API."""

    def __init__(self, amlrun_dir: Path, run_id: str) -> None:
        self.dir = amlrun_dir
        self.run_id = run_id

    def _set(self, *rows: dict[str, Any]) -> None:
        queue.set_steps(self.dir, self.run_id, list(rows))

    def start(self, engine: Any) -> None:
        self._set(
            *(
                {"name": name, "status": "queued", "position": i}
                for i, name in enumerate(engine.pipeline.steps)
            )
        )

    def step_started(self, out: Any) -> None:
        self._set({"name": out.name, "status": "running", "key": out.key})

    def output_sink(self, step: str) -> Callable[[bytes], None]:
        path = live_log(self.dir, self.run_id, step)
        path.parent.mkdir(parents=True, exist_ok=True)

        def sink(chunk: bytes) -> None:  # one writer per step: appends never interleave
            with open(path, "ab") as f:
                f.write(chunk)

        return sink

    def step_done(self, out: Any) -> None:
        self._set(_row(out))

    def finish(self, result: Any) -> None:
        self._set(*(_row(o) for o in result.steps))


def _row(out: Any) -> dict[str, Any]:
    return {
        "name": out.name,
        "status": out.status,
        "key": out.key,
        "duration_s": out.duration_s,
        "reason": out.reason,
        "log": out.log,
    }


def run_queued(root: Path, run_id: str) -> str:
    """Run the claimed queue entry ``run_id``; its final status."""
    from amlrun.cache.store import open_store
    from amlrun.engine.runner import Engine
    from amlrun.errors import AmlrunError
    from amlrun.server.graph import describe

    ws = Workspace(root)
    row = queue.get(ws.dir, run_id)
    if row is None:
        return "failed"
    sub = row.submission
    try:
        pipeline = _load(ws, sub)
        queue.set_graph(ws.dir, run_id, describe(pipeline))
        store = open_store(ws.config.get("store"), ws.root)
        reporter = LiveReporter(ws.dir, run_id)
        result = Engine(pipeline, workspace=ws, store=store, reporter=reporter, run_id=run_id).run()
    except KeyboardInterrupt:
        queue.finish(ws.dir, run_id, "cancelled", "cancelled while running")
        return "cancelled"
    except AmlrunError as exc:
        queue.finish(ws.dir, run_id, "failed", str(exc))
        return "failed"
    statuses = {s.status for s in result.steps}
    status = "succeeded" if result.ok else "failed"
    status = "cancelled" if "cancelled" in statuses and not result.ok else status
    queue.finish(ws.dir, run_id, status)
    return status


def _load(ws: Workspace, sub: queue.Submission):
    """The published version, or the pipeline file, with the submitted values."""
    overrides = {**sub.parameters, **sub.inputs}
    overrides.update({f"settings.{k}": v for k, v in sub.settings.items()})
    if sub.file is not None:
        from amlrun.loading import load_pipeline

        return load_pipeline(
            ws.root / sub.file, overrides, config=ws.config, cache_dir=ws.dir / "plans"
        )
    from amlrun.published import resolve_published

    return resolve_published(ws, sub.pipeline, sub.version, overrides).pipeline


def main(argv: list[str]) -> int:
    """SIGTERM (the server stopping) interrupts like SIGINT (a cancel) but the run is
    recorded ``interrupted``, so it can be told apart and resubmitted."""
    import os
    import signal

    root, run_id = Path(argv[0]), argv[1]
    stopping: list[bool] = []

    def on_term(_sig: int, _frame: Any) -> None:
        stopping.append(True)
        os.kill(os.getpid(), signal.SIGINT)

    signal.signal(signal.SIGTERM, on_term)
    status = run_queued(root, run_id)
    if stopping:
        queue.force_status(Workspace(root).dir, run_id, "interrupted", "the server stopped")
    return 0 if status == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
