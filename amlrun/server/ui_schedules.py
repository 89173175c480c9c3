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

from amlrun.errors import SpecError
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
    from amlrun.schedules.parse import parse_schedule
    from amlrun.schedules.published_run import published_ref

    view: dict[str, Any] = {
        "name": entry.name,
        "file": entry.file,
        "enabled": entry.enabled,
        "created": entry.created,
        "firings": [asdict(f) for f in book.firings(entry.name, FIRINGS_SHOWN)],
    }
    try:
        schedule = parse_schedule(entry.doc, Path(entry.file), entry.catch_up)
    except SpecError as exc:  # stored before a stricter amlrun: shown, not hidden
        return {**view, "error": str(exc)}
    return {
        **view,
        "display_name": schedule.display_name,
        "description": schedule.description,
        "catch_up": schedule.catch_up,
        "trigger": _trigger(schedule.trigger),
        "pipeline": schedule.job.pipeline,
        "published": published_ref(schedule.job.pipeline)[0] if schedule.job.published else None,
    }


def _trigger(trigger: Any) -> dict[str, Any]:
    """The trigger's own fields (a time window as its zone name and ISO instants)."""
    fields = {k: v for k, v in vars(trigger).items() if k != "window"}
    window = getattr(trigger, "window", None)
    if window is not None:
        fields.update(
            time_zone=window.zone_name,
            start_time=window.start.isoformat() if window.start else None,
            end_time=window.end.isoformat() if window.end else None,
        )
    return fields
