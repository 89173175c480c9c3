"""Time zones by the names Azure ML uses (Windows names such as "Pacific Standard Time")
or by IANA name, and wall times turned into instants the way cron does across DST."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

UTC = timezone.utc


def zone(name: str) -> tzinfo:
    """The zone called ``name``; KeyError when neither a Windows nor an IANA zone has it."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from tzlocal.windows_tz import win_tz  # CLDR's Windows -> IANA table, kept up to date

    iana = win_tz.get(name, name)
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError):
        raise KeyError(name) from None


def known_names() -> list[str]:
    from tzlocal.windows_tz import win_tz

    return sorted(win_tz)


def instant(wall: datetime, tz: tzinfo) -> datetime:
    """The UTC instant of wall time ``wall`` (naive) in ``tz``.

    A repeated wall time (clocks going back) is its first occurrence; a skipped one (clocks
    going forward) is the moment the clock jumps, as Debian cron and cronsim do, so a daily
    02:30 job runs on the day of the change too, once.
    """
    first = wall.replace(tzinfo=tz, fold=0)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall:
        return first.astimezone(UTC)
    # skipped: the jump lies between the instants the two offsets give; find it by bisection
    lo = wall.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = first.astimezone(UTC)
    lo, hi = min(lo, hi), max(lo, hi)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).utcoffset() == lo.astimezone(tz).utcoffset():
            lo = mid
        else:
            hi = mid
    return hi.replace(microsecond=0)


def parse_time(value: object, tz: tzinfo) -> datetime:
    """An ISO 8601 time as an aware UTC instant; without an offset it is wall time in ``tz``.

    ValueError when ``value`` is not a time.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    else:
        raise ValueError(value)
    if parsed.tzinfo is None:
        return instant(parsed, tz)
    return parsed.astimezone(UTC)
