"""A stored schedule as people read it (``schedule list|show``, the server's pages): its
trigger in words, its next tick, or why it no longer loads."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from amlrun.errors import SpecError
from amlrun.schedules.book import Entry
from amlrun.schedules.model import CronTrigger, DataTrigger, Schedule


def facts(entry: Entry) -> dict[str, str | None]:
    """What list and show print of a stored schedule; one that no longer loads (its pipeline
    file was moved, say) is shown with the problem instead of failing the whole listing."""
    from amlrun.schedules.parse import parse_schedule

    try:
        s = parse_schedule(entry.doc, Path(entry.file), entry.catch_up)
    except SpecError as exc:
        catch_up = entry.catch_up or (entry.doc.get("amlrun") or {}).get("catch_up", "none")
        return {
            "trigger": "invalid",
            "catch_up": catch_up,
            "job": None,
            "next": "-",
            "problem": str(exc),
        }
    return {
        "trigger": describe(s),
        "catch_up": s.catch_up,
        "job": s.job.pipeline,
        "next": next_tick(s, entry),
        "problem": None,
    }


def describe(schedule: Schedule) -> str:
    t = schedule.trigger
    if isinstance(t, DataTrigger):
        return f"data {t.path} (every {t.polling_interval_s:g}s)"
    if isinstance(t, CronTrigger):
        return f'cron "{t.expression}" {t.window.zone_name}'
    return f"every {t.interval} {t.frequency} {t.window.zone_name}"


def next_tick(schedule: Schedule, entry: Entry) -> str:
    from amlrun.schedules.scheduler import stamp
    from amlrun.schedules.ticks import ticks

    if isinstance(schedule.trigger, DataTrigger):
        return "on change"
    created = datetime.fromtimestamp(entry.created, timezone.utc)
    evaluated = datetime.fromtimestamp(entry.evaluated or entry.created, timezone.utc)
    after = max(datetime.now(timezone.utc), evaluated)
    tick = next(ticks(schedule.trigger, created, after), None)
    return stamp(tick) if tick else "-"
