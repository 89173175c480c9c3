"""When a time trigger fires: its ticks, as UTC instants, computed in its own time zone.

Cron uses cronsim, which follows Debian cron across DST: a fixed time the clock skips fires
once when the clock jumps, a fixed time the clock repeats fires once, and a wildcard hour
fires for each hour the clock shows. A recurrence uses dateutil's rrule on wall time with the
same rules (:func:`~amlrun.schedules.zones.instant`); only ``minute`` and ``hour`` without a
``schedule:`` count elapsed time, since "every 4 hours" means four real hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from amlrun.schedules.model import CronTrigger, RecurrenceTrigger
from amlrun.schedules.zones import UTC, instant

#: how far before ``after`` wall-time iteration starts, so no tick near a DST jump is missed
_SLACK = timedelta(hours=3)


def ticks(
    trigger: CronTrigger | RecurrenceTrigger, anchor: datetime, after: datetime
) -> Iterator[datetime]:
    """Ticks strictly after ``after``, in order, within the trigger's window; ``anchor`` is
    when the schedule began (its start_time, or when it was created)."""
    window = trigger.window
    floor = max(after, window.start - timedelta(microseconds=1)) if window.start else after
    source = (
        _cron(trigger, floor)
        if isinstance(trigger, CronTrigger)
        else _recurrence(trigger, window.start or anchor, floor)
    )
    for tick in source:
        if window.end is not None and tick > window.end:
            return
        yield tick


def due(
    trigger: CronTrigger | RecurrenceTrigger, anchor: datetime, after: datetime, now: datetime
) -> Iterator[datetime]:
    """Ticks in (``after``, ``now``]."""
    for tick in ticks(trigger, anchor, after):
        if tick > now:
            return
        yield tick


def _cron(trigger: CronTrigger, after: datetime) -> Iterator[datetime]:
    from cronsim import CronSim

    for local in CronSim(trigger.expression, after.astimezone(trigger.window.zone)):
        yield local.astimezone(UTC)


def _recurrence(trigger: RecurrenceTrigger, start: datetime, after: datetime) -> Iterator[datetime]:
    has_schedule = trigger.hours or trigger.minutes or trigger.week_days or trigger.month_days
    if trigger.frequency in ("minute", "hour") and not has_schedule:
        yield from _elapsed(trigger, start, after)
        return
    from dateutil import rrule

    tz = trigger.window.zone
    wall_start = start.astimezone(tz).replace(tzinfo=None, microsecond=0)
    rule = rrule.rrule(
        getattr(rrule, {"day": "DAILY"}.get(trigger.frequency, trigger.frequency.upper() + "LY")),
        interval=trigger.interval,
        dtstart=wall_start,
        byhour=trigger.hours or None,
        byminute=trigger.minutes or (0 if trigger.hours else None),
        bysecond=0 if trigger.hours or trigger.minutes else None,
        byweekday=trigger.week_days or None,
        bymonthday=trigger.month_days or None,
        cache=False,
    )
    last = None
    wall_after = after.astimezone(tz).replace(tzinfo=None) - _SLACK
    for wall in rule.xafter(wall_after, inc=True):
        tick = instant(wall, tz)
        if tick > after and tick != last:  # two skipped wall times map to the same jump
            last = tick
            yield tick


def _elapsed(trigger: RecurrenceTrigger, start: datetime, after: datetime) -> Iterator[datetime]:
    step = timedelta(minutes=trigger.interval * (60 if trigger.frequency == "hour" else 1))
    n = max(0, (after - start) // step)
    tick = start + n * step
    while True:
        if tick > after:
            yield tick
        tick += step
