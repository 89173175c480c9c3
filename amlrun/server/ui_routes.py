"""The web UI on the API's port: its static pages at ``/`` and ``/ui/``, and the JSON views
the pages need beyond the REST API: a run's graph (``GET /api/v1/ui/runs/{id}/graph``) and
the schedules (:mod:`amlrun.server.ui_schedules`).

The pages hold no data, so they are served to anyone (the login form is one of them); every
byte of data comes from the API, behind the same token scopes as for any other client.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from amlrun.server import queue
from amlrun.server.auth import Reader
from amlrun.server.ui_graph import Graph, overlay, planned_graph, run_graph
from amlrun.server.views import step_views

UI = Path(__file__).parent / "ui"

router = APIRouter()


#: defence in depth behind the pages' text-only rendering: only this server's own scripts run
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(UI / "index.html", headers=SECURITY_HEADERS)


@router.get("/api/v1/ui/runs/{run_id}/graph", tags=["ui"])
def graph(run_id: str, request: Request, _who: Reader) -> dict[str, Any]:
    """The run's steps (status, key, why, producer, parameters, inputs, outputs) and edges,
    live while it runs: what the UI's graph and step panel draw."""
    state = request.app.state.amlrun
    found = live_graph(state.amlrun_dir, run_id, state.workspace.config)
    if found is None:
        raise HTTPException(404, f"no run '{run_id}'")
    return found.to_json()


def live_graph(amlrun_dir: Path, run_id: str, config: dict[str, Any]) -> Graph | None:
    """The recorded graph of ``run_id`` overlaid with its queue state and live step states;
    a submitted run the engine has not recorded yet is drawn from the worker's description."""
    from amlrun.runs.db import RunDB

    row = queue.get(amlrun_dir, run_id)
    db = RunDB(amlrun_dir / "runs.sqlite")
    try:
        recorded = run_graph(db, run_id, row.graph if row else None, config)
    finally:
        db.close()
    if row is None:
        return recorded
    live = step_views(amlrun_dir, row.id, queue.steps_of(amlrun_dir, row.id), row.graph)
    base = recorded or planned_graph(row.id, row.pipeline, row.status, row.graph or {}, row.error)
    return replace(overlay(base, row.status, live), submitted=True)


def mount_ui(app: FastAPI) -> None:
    """Serve the pages, their graph view and the schedules list from ``app``."""
    from amlrun.server import ui_schedules

    app.mount("/ui", StaticFiles(directory=UI), name="ui")
    app.include_router(router)
    app.include_router(ui_schedules.router)
