"""``GET /api/v1/schedules``: the workspace's schedules and their recent firings, for the web
UI's schedules page (read-only: schedules are created and changed with ``amlrun schedule``).

Each firing names the run it started, so the page links to runs that, for an unchanged
pipeline, are mostly full reuses.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from amlrun.server.auth import Reader

router = APIRouter(prefix="/api/v1/schedules", tags=["schedules"])
FIRINGS_SHOWN = 20


@router.get("")
def list_schedules(request: Request, _who: Reader) -> dict[str, Any]:
    """Every schedule: trigger, job, enabled, and its newest firings (tick, run, outcome)."""
    return {"schedules": schedules(request.app.state.amlrun.amlrun_dir)}


def schedules(amlrun_dir: Path) -> list[dict[str, Any]]:
    """What :func:`list_schedules` answers; none when the workspace has no schedule book
    (reading never creates one)."""
    from amlrun.schedules.book import Book

    path = amlrun_dir / "schedules.sqlite"
    if not path.is_file():
        return []
    book = Book(path)
    try:
        return [_view(book, entry) for entry in book.entries()]
    finally:
        book.close()


def _view(book: Any, entry: Any) -> dict[str, Any]:
    """The schedule as ``schedule show`` tells it (trigger in words, next tick, or the problem
    when it no longer loads), with its names and newest firings."""
    from amlrun.schedules.published_run import published_ref
    from amlrun.schedules.summary import facts

    told = facts(entry)
    job = told["job"] or ""
    return {
        "name": entry.name,
        "display_name": str(entry.doc.get("display_name") or ""),
        "description": str(entry.doc.get("description") or ""),
        "enabled": entry.enabled,
        **told,
        "published": published_ref(job)[0] if job.startswith("azureml:") else None,
        "firings": [asdict(f) for f in book.firings(entry.name, FIRINGS_SHOWN)],
    }
