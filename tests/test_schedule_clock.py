"""The scheduler driven by a fake clock and a recording launcher: DST, restarts, data."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytest.importorskip("cronsim", reason="needs amlrun[schedule]")

from amlrun.schedules.book import Book
from amlrun.schedules.scheduler import Scheduler
from amlrun.schedules.zones import zone

UTC = timezone.utc
PACIFIC = zone("Pacific Standard Time")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Launches(list):
    def __call__(self, schedule, tick, report) -> None:
        self.append(tick)
        report(f"run-{len(self)}", "succeeded (1 reused)")


def _book(tmp_path: Path, trigger: str, created: datetime) -> Book:
    (tmp_path / "pipeline.yml").write_text("type: pipeline\njobs: {}\n")
    book = Book(tmp_path / "schedules.sqlite")
    doc = {"name": "s", "trigger": json.loads(trigger), "create_job": "./pipeline.yml"}
    book.put("s", str(tmp_path / "s.yml"), doc, None, created.timestamp())
    return book


def _walk(tmp_path, trigger: str, start: datetime, hours: float, step=timedelta(minutes=10)):
    """Poll every ``step`` for ``hours`` from ``start``; the local times that fired."""
    book = _book(tmp_path, trigger, start)
    clock, launches = Clock(start), Launches()
    scheduler = Scheduler(book, launches, clock)
    while clock.now < start + timedelta(hours=hours):
        clock.now += step
        scheduler.poll()
    fired = [datetime.fromisoformat(t.replace("Z", "+00:00")) for t in launches]
    return [f.astimezone(PACIFIC).strftime("%m-%d %H:%M %Z") for f in fired]


SPRING = datetime(2026, 3, 7, 20, tzinfo=UTC)  # 12:00 PST on the day before clocks go forward
FALL = datetime(2026, 10, 31, 19, tzinfo=UTC)  # 12:00 PDT on the day before clocks go back


def test_a_daily_cron_in_the_skipped_hour_fires_once_when_the_clock_jumps(tmp_path):
    trigger = '{"type": "cron", "expression": "30 2 * * *", "time_zone": "Pacific Standard Time"}'
    assert _walk(tmp_path, trigger, SPRING, 72) == [
        "03-08 03:00 PDT",  # 02:30 never happens that day: it runs at the jump, once
        "03-09 02:30 PDT",
        "03-10 02:30 PDT",
    ]


def test_a_daily_cron_in_the_repeated_hour_fires_once(tmp_path):
    trigger = '{"type": "cron", "expression": "30 1 * * *", "time_zone": "Pacific Standard Time"}'
    assert _walk(tmp_path, trigger, FALL, 72) == [
        "11-01 01:30 PDT",  # not again at 01:30 PST
        "11-02 01:30 PST",
        "11-03 01:30 PST",
    ]


def test_an_hourly_cron_fires_for_each_hour_the_clock_shows_across_fall_back(tmp_path):
    trigger = '{"type": "cron", "expression": "0 * * * *", "time_zone": "Pacific Standard Time"}'
    fired = _walk(tmp_path, trigger, FALL + timedelta(hours=12), 4)  # 00:00 PDT to 03:00 PST
    assert fired == ["11-01 01:00 PDT", "11-01 01:00 PST", "11-01 02:00 PST", "11-01 03:00 PST"]


def test_a_daily_recurrence_keeps_its_wall_time_across_spring_forward(tmp_path):
    trigger = (
        '{"type": "recurrence", "frequency": "day", "interval": 1, "time_zone": '
        '"Pacific Standard Time", "schedule": {"hours": [2], "minutes": [30]}}'
    )
    assert _walk(tmp_path, trigger, SPRING, 72) == [
        "03-08 03:00 PDT",
        "03-09 02:30 PDT",
        "03-10 02:30 PDT",
    ]


def test_a_weekly_recurrence_fires_on_its_days_in_its_zone(tmp_path):
    trigger = (
        '{"type": "recurrence", "frequency": "week", "interval": 1, "time_zone": '
        '"Pacific Standard Time", "schedule": {"hours": 9, "week_days": ["monday", "friday"]}}'
    )
    fired = _walk(tmp_path, trigger, SPRING, 24 * 8, step=timedelta(minutes=30))
    assert fired == ["03-09 09:00 PDT", "03-13 09:00 PDT"]


def test_an_hourly_recurrence_counts_real_hours(tmp_path):
    trigger = '{"type": "recurrence", "frequency": "hour", "interval": 4}'
    fired = _walk(tmp_path, trigger, FALL, 12)
    assert len(fired) == 3


def test_a_new_scheduler_on_the_same_book_never_fires_a_tick_again(tmp_path):
    trigger = '{"type": "cron", "expression": "*/5 * * * *"}'
    start = datetime(2026, 5, 1, 12, 1, tzinfo=UTC)
    book = _book(tmp_path, trigger, start)
    launches = Launches()
    for minutes in (5, 5, 6):  # three processes, the first two seeing the same moment
        Scheduler(
            Book(tmp_path / "schedules.sqlite"), launches, Clock(start + timedelta(minutes=minutes))
        ).poll()
    assert launches == ["2026-05-01T12:05:00Z"]
    assert book.firings("s")[0].run_id == "run-1"


def test_end_time_stops_the_ticks(tmp_path):
    trigger = (
        '{"type": "cron", "expression": "0 * * * *", "end_time": "2026-05-01T14:30:00",'
        ' "time_zone": "UTC"}'
    )
    start = datetime(2026, 5, 1, 11, 30, tzinfo=UTC)
    book = _book(tmp_path, trigger, start)
    clock, launches = Clock(start), Launches()
    scheduler = Scheduler(book, launches, clock)
    for _ in range(10):
        clock.now += timedelta(hours=1)
        scheduler.poll()
    assert launches == ["2026-05-01T12:00:00Z", "2026-05-01T13:00:00Z", "2026-05-01T14:00:00Z"]


def test_a_launcher_that_fails_is_recorded_and_the_next_tick_still_fires(tmp_path):
    trigger = '{"type": "cron", "expression": "0 * * * *"}'
    start = datetime(2026, 5, 1, 11, 30, tzinfo=UTC)
    book = _book(tmp_path, trigger, start)

    def broken(schedule, tick, report):
        raise RuntimeError("no such thing")

    clock = Clock(start)
    scheduler = Scheduler(book, broken, clock)
    for _ in range(2):
        clock.now += timedelta(hours=1)
        scheduler.poll()
    outcomes = [f.outcome for f in book.firings("s")]
    assert outcomes == ["failed to start: no such thing"] * 2


def test_two_schedulers_seeing_one_data_change_fire_it_once(tmp_path):
    (tmp_path / "drop").mkdir()
    start = datetime(2026, 5, 1, 12, tzinfo=UTC)
    book = _book(tmp_path, '{"type": "data", "path": "./drop", "polling_interval": "1s"}', start)
    launches = Launches()
    clock = Clock(start)
    first, second = (Scheduler(Book(tmp_path / "schedules.sqlite"), launches, clock) for _ in "ab")
    first.poll()  # the baseline: an empty folder
    (tmp_path / "drop/a.csv").write_text("1\n")
    clock.now += timedelta(seconds=2)
    first.poll()
    clock.now += timedelta(seconds=1)  # the second one looks a second later, at its own time
    second.poll()
    shutil.rmtree(tmp_path / "drop")  # gone: nothing new to run
    clock.now += timedelta(seconds=2)
    first.poll()
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop/a.csv").write_text("1\n")  # back as it was: that content already ran
    clock.now += timedelta(seconds=2)
    first.poll()
    assert len(launches) == 1
    assert book.firings("s")[0].reason.startswith("data changed under")


def test_a_data_trigger_on_an_fsspec_url_fires_on_new_content_only(tmp_path):
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/sched-drop/a.csv", b"1\n")
    start = datetime(2026, 5, 1, 12, tzinfo=UTC)
    trigger = '{"type": "data", "path": "memory://sched-drop", "polling_interval": "1s"}'
    book = _book(tmp_path, trigger, start)
    clock, launches = Clock(start), Launches()
    scheduler = Scheduler(book, launches, clock)

    def look() -> None:
        clock.now += timedelta(seconds=2)
        scheduler.poll()

    look()  # the baseline
    fs.pipe("/sched-drop/a.csv", b"1\n")  # written again, same bytes
    look()
    fs.pipe("/sched-drop/b.csv", b"2\n")
    look()
    look()
    fs.rm("/sched-drop", recursive=True)
    assert len(launches) == 1


def test_a_firing_whose_scheduler_died_mid_run_is_told_as_unknown(tmp_path):
    import subprocess
    import sys

    from amlrun.schedules.book import UNKNOWN

    trigger = '{"type": "cron", "expression": "0 * * * *"}'
    start = datetime(2026, 5, 1, 11, 30, tzinfo=UTC)
    book = _book(tmp_path, trigger, start)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    book.claim("s", "2026-05-01T12:00:00Z", "tick", start.timestamp(), "running")
    book.conn.execute("UPDATE firings SET pid = ?", (gone.pid,))
    book.conn.commit()
    Scheduler(book, Launches(), Clock(start))  # a new scheduler starts
    assert book.firings("s")[0].outcome == UNKNOWN
