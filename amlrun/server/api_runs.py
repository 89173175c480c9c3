"""``/api/v1/runs``: list, status per step, logs (Server-Sent Events while running), cancel,
resubmit and output downloads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse

from amlrun.server import queue
from amlrun.server.auth import Reader, Submitter
from amlrun.server.outputs import download
from amlrun.server.views import recorded_run, run_summary, run_view, step_log_path
from amlrun.server.worker import live_log

router = APIRouter(prefix="/api/v1/runs", tags=["runs"])
FOLLOW_S = 0.25
ACTIVE = ("queued", "running", "pending")


def _dir(request: Request) -> Path:
    return request.app.state.amlrun.amlrun_dir


def _row(request: Request, run_id: str) -> queue.QueuedRun:
    row = queue.get(_dir(request), run_id)
    if row is None:
        raise HTTPException(404, f"no run {run_id} was submitted to this server")
    return row


@router.get("")
def list_runs(
    request: Request,
    _who: Reader,
    pipeline: str | None = None,
    status: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> dict:
    """Runs submitted to this server, newest first (filter by pipeline and/or status)."""
    rows = queue.list_runs(_dir(request), pipeline, status, limit)
    return {"runs": [run_summary(r) for r in rows]}


@router.get("/{run_id}")
def get_run(request: Request, run_id: str, _who: Reader) -> dict:
    """The run and each step: queued, running, ran, reused (with ``produced_by``), failed,
    skipped or cancelled. A run made by ``amlrun run`` is shown from its record."""
    row = queue.get(_dir(request), run_id)
    if row is not None:
        return run_view(_dir(request), row)
    recorded = recorded_run(_dir(request), run_id)
    if recorded is None:
        raise HTTPException(404, f"no run {run_id}")
    return recorded


@router.post("/{run_id}/cancel", status_code=202)
def cancel(request: Request, run_id: str, _who: Submitter) -> dict:
    """A queued run is cancelled at once; a running one stops its steps (202: on its way)."""
    row = _row(request, run_id)
    if row.status in queue.FINAL:
        raise HTTPException(409, f"run {run_id} has already ended ({row.status})")
    queue.request_cancel(_dir(request), run_id)
    request.app.state.amlrun.dispatcher.wake()
    return {"run_id": run_id, "status": _row(request, run_id).status}


@router.post("/{run_id}/resubmit", status_code=202)
def resubmit(request: Request, run_id: str, who: Submitter) -> dict:
    """The same submission again, as a new run (an interrupted run is resumed this way)."""
    from amlrun.server.submit import submit

    row = _row(request, run_id)
    new = submit(request.app.state.amlrun, row.submission, by=who.name, resubmit_of=run_id)
    return {"run_id": new, "resubmit_of": run_id}


@router.get("/{run_id}/steps/{step:path}/logs", response_model=None)
def step_logs(request: Request, run_id: str, step: str, _who: Reader) -> Response:
    """The step's output: followed as Server-Sent Events while it runs (one ``data:`` per
    line, then ``event: end`` with its status), the whole log as text once it has ended;
    ``Accept: text/event-stream`` asks for events in any case."""
    status, log = _step_state(_dir(request), run_id, step)
    if status is None:
        raise HTTPException(404, f"run {run_id} has no step '{step}'")
    wants_events = "text/event-stream" in request.headers.get("accept", "")
    if status not in ACTIVE and not wants_events:
        return PlainTextResponse(_read(log, live_log(_dir(request), run_id, step)))
    return StreamingResponse(
        _follow(_dir(request), run_id, step),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _step_state(amlrun_dir: Path, run_id: str, step: str) -> tuple[str | None, Path | None]:
    """The step's status and log; ``queued`` while its run has not loaded the pipeline yet."""
    status, log = step_log_path(amlrun_dir, run_id, step)
    if status is None:
        row = queue.get(amlrun_dir, run_id)
        if row is not None and row.status in ACTIVE:
            return "queued", None
        if row is not None and row.status == "interrupted":
            return "interrupted", None
    return status, log


def _read(log: Path | None, live: Path) -> str:
    for path in (log, live):
        if path is not None and path.is_file():
            return path.read_text(errors="replace")
    return ""


async def _follow(amlrun_dir: Path, run_id: str, step: str) -> AsyncIterator[str]:
    live = live_log(amlrun_dir, run_id, step)
    offset, partial, sent = 0, "", False
    while True:
        status, log = await asyncio.to_thread(_step_state, amlrun_dir, run_id, step)
        data = await asyncio.to_thread(_tail, live, offset)
        offset += len(data)
        *lines, partial = (partial + data.decode(errors="replace")).split("\n")
        for line in lines:
            sent = True
            yield f"data: {line}\n\n"
        if status not in ACTIVE:
            rest = [partial] if partial else []
            if not sent and not rest and log is not None and log.is_file():
                rest = log.read_text(errors="replace").splitlines()
            for line in rest:
                yield f"data: {line}\n\n"
            yield f"event: end\ndata: {status}\n\n"
            return
        await asyncio.sleep(FOLLOW_S)


def _tail(path: Path, offset: int) -> bytes:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read()
    except FileNotFoundError:
        return b""


@router.get("/{run_id}/outputs/{name:path}", response_model=None)
def get_output(request: Request, run_id: str, name: str, _who: Reader) -> Response:
    """A pipeline output (or STEP/OUTPUT): a file as it is, a folder as a .tar.gz."""
    row = _row(request, run_id)
    return download(request.app.state.amlrun, row, name)
