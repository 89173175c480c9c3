"""What the API says about a run: its queue row, its steps' live states and, for a reused
step, the run that produced it. Runs started from the CLI (not through the queue) are shown
from their record in ``runs.sqlite``, so any producer a reused step links to can be opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amlrun.server import queue

#: the engine's step states as the API names them (``pending``: not reached yet)
_STEP_STATUS = {"pending": "queued", "would-run": "queued"}


def _producers(amlrun_dir: Path, steps: list[dict[str, Any]], run_id: str) -> dict[str, str]:
    """Step name -> the run that ran the key a reused step restored."""
    wanted = {s["name"]: s["key"] for s in steps if s["status"] == "reused" and s.get("key")}
    if not wanted:
        return {}
    from amlrun.runs.db import RunDB

    db = RunDB(amlrun_dir / "runs.sqlite")
    try:
        found = {name: db.producer(key) for name, key in wanted.items()}
    finally:
        db.close()
    return {name: p[0] for name, p in found.items() if p is not None and p[0] != run_id}


def step_views(
    amlrun_dir: Path, run_id: str, steps: list[dict[str, Any]], graph: dict[str, Any] | None
) -> list[dict]:
    """Each step's state, with what graph.describe says of it (upstream, parameters...)."""
    producers = _producers(amlrun_dir, steps, run_id)
    shape = (graph or {}).get("steps", {})
    return [
        {
            **shape.get(s["name"], {}),
            "name": s["name"],
            "status": _STEP_STATUS.get(s["status"], s["status"]),
            "key": s.get("key"),
            "duration_s": s.get("duration_s"),
            "reason": s.get("reason") or "",
            "produced_by": producers.get(s["name"]),
            "logs": f"/api/v1/runs/{run_id}/steps/{s['name']}/logs",
        }
        for s in steps
    ]


def run_summary(row: queue.QueuedRun) -> dict[str, Any]:
    return {
        "run_id": row.id,
        "pipeline": row.pipeline,
        "version": row.version,
        "status": row.status,
        "submitted": row.submitted,
        "started": row.started,
        "finished": row.finished,
        "submitted_by": row.submitted_by,
        "error": row.error,
        "resubmit_of": row.resubmit_of,
    }


def run_view(amlrun_dir: Path, row: queue.QueuedRun) -> dict[str, Any]:
    steps = queue.steps_of(amlrun_dir, row.id)
    return {
        **run_summary(row),
        **row.request,
        "steps": step_views(amlrun_dir, row.id, steps, row.graph),
        "outputs": sorted(row.outputs),
    }


def recorded_run(amlrun_dir: Path, run_id: str) -> dict[str, Any] | None:
    """A run from ``runs.sqlite`` that did not come through the queue (``amlrun run``)."""
    from amlrun.runs.db import RunDB

    db = RunDB(amlrun_dir / "runs.sqlite")
    try:
        run = db.run(run_id)
        if run is None or run[0] != run_id:
            return None
        rows = db.steps(run_id)
    finally:
        db.close()
    rid, pipeline, started, finished, status, _source = run
    steps = [
        {"name": n, "status": st, "key": k, "duration_s": d, "reason": r}
        for n, st, k, d, r, _backend, _log in rows
    ]
    return {
        "run_id": rid,
        "pipeline": pipeline,
        "version": None,
        "status": status,
        "submitted": started,
        "started": started,
        "finished": finished,
        "submitted_by": "cli",
        "error": None,
        "resubmit_of": None,
        "parameters": {},
        "inputs": {},
        "steps": step_views(amlrun_dir, rid, steps, None),
        "outputs": [],
    }


def step_log_path(amlrun_dir: Path, run_id: str, step: str) -> tuple[str | None, Path | None]:
    """(step status, its finished log file) from the queue's live states or the record."""
    for s in queue.steps_of(amlrun_dir, run_id):
        if s["name"] == step:
            return s["status"], Path(s["log"]) if s.get("log") else None
    from amlrun.runs.db import RunDB

    db = RunDB(amlrun_dir / "runs.sqlite")
    try:
        for name, status, _k, _d, _r, _b, log in db.steps(run_id):
            if name == step:
                return status, Path(log) if log else None
    finally:
        db.close()
    return None, None
