"""The scheduler: one pass over the stored schedules fires what is due, through ``launch``.

The clock and the launcher are injected, so the same class runs alone (``amlrun
scheduler``: runs in subprocesses), inside ``amlrun serve`` (runs through its queue) and in
tests (a fake clock, a recording launcher).

Ticks missed while no scheduler ran (those before this one started, less :data:`GRACE`)
follow the schedule's ``catch_up`` policy: ``none`` skips them, ``latest`` fires the newest,
``all`` fires every one in order. Skipped ticks are recorded too. Ticks after the start are
fired even when a pass comes late (a slow pass, a suspended machine).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

from amlrun.errors import AmlrunError
from amlrun.schedules.book import Book, Entry
from amlrun.schedules.datawatch import DataWatch
from amlrun.schedules.model import DataTrigger, Schedule
from amlrun.schedules.parse import parse_schedule
from amlrun.schedules.ticks import due

#: how long before a scheduler's start a tick still counts as its own (not missed): so that
#: ``amlrun scheduler --once`` run every minute by cron fires every tick
GRACE = timedelta(seconds=60)
#: skipped ticks recorded per pass, newest first: a month-long outage is not 40k rows
MAX_SKIPPED = 100

Report = Callable[[str | None, str], None]  # (run id, outcome) of a firing, when known


class Launch(Protocol):
    def __call__(self, schedule: Schedule, tick: str, report: Report) -> None:
        """Start ``schedule``'s job for ``tick``; call ``report`` as it progresses."""


@dataclass(frozen=True)
class Fired:
    schedule: str
    tick: str
    reason: str


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Scheduler:
    def __init__(
        self,
        book: Book,
        launch: Launch,
        clock: Callable[[], datetime] = utc_now,
        log: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.book, self.launch, self.clock, self.log = book, launch, clock, log
        self.watch = DataWatch()
        self.started = clock()  # ticks before this (less GRACE) fell while none was watching
        self._told: dict[str, str] = {}  # schedule -> the problem last logged
        self._lock = threading.Lock()  # the book is shared with launchers' report threads
        book.settle_orphans()

    def poll(self) -> list[Fired]:
        """Fire every enabled schedule's due ticks and data changes once."""
        now = self.clock()
        fired: list[Fired] = []
        with self._lock:
            entries = self.book.entries()
            for entry in entries:  # a disabled schedule's ticks pass unfired
                if not entry.enabled:
                    self.book.advance(entry.name, now.timestamp())
        for entry in (e for e in entries if e.enabled):
            try:
                schedule = parse_schedule(entry.doc, Path(entry.file), entry.catch_up)
                if isinstance(schedule.trigger, DataTrigger):
                    fired += self._poll_data(entry, schedule, now)
                else:
                    fired += self._poll_time(entry, schedule, now)
            except AmlrunError as exc:  # its file moved, a bad reference...
                self._problem(entry.name, str(exc))
            except Exception as exc:  # a store that is down: the other schedules still fire
                self._problem(entry.name, f"{type(exc).__name__}: {exc}")
            else:
                self._told.pop(entry.name, None)
        return fired

    def report_to(self, schedule: str, tick: str) -> Report:
        """What a launcher calls with the (run id, outcome) of the firing of ``tick``."""

        def report(run_id: str | None, outcome: str) -> None:
            with self._lock:
                self.book.report(schedule, tick, run_id, outcome)

        return report

    def _problem(self, name: str, text: str) -> None:
        """Log a schedule's problem once, not at every pass while it lasts."""
        if self._told.get(name) != text:
            self._told[name] = text
            self.log(f"schedule {name}: {text}")

    def serve(self, stop: threading.Event, every: float = 1.0) -> None:
        """Poll until ``stop`` is set."""
        while not stop.is_set():
            try:
                self.poll()
            except Exception as exc:  # a locked or full database: say so, keep polling
                self.log(f"scheduler: {type(exc).__name__}: {exc}")
            stop.wait(every)

    def _poll_time(self, entry: Entry, schedule: Schedule, now: datetime) -> list[Fired]:
        created = datetime.fromtimestamp(entry.created, timezone.utc)
        after = (
            datetime.fromtimestamp(entry.evaluated, timezone.utc) if entry.evaluated else created
        )
        ticks = list(due(schedule.trigger, created, after, now))
        missed = [t for t in ticks if t < self.started - GRACE]
        fire = {"all": missed, "latest": missed[-1:], "none": []}[schedule.catch_up]
        with self._lock:
            for tick in [t for t in missed if t not in fire][-MAX_SKIPPED:]:
                reason = f"missed (catch_up: {schedule.catch_up})"
                self.book.claim(entry.name, stamp(tick), reason, now.timestamp(), "skipped")
        out = [self._fire(schedule, stamp(t), "catch-up") for t in fire]
        out += [self._fire(schedule, stamp(t), "tick") for t in ticks[len(missed) :]]
        with self._lock:
            self.book.advance(entry.name, max(now, after).timestamp())
        return [f for f in out if f is not None]

    def _poll_data(self, entry: Entry, schedule: Schedule, now: datetime) -> list[Fired]:
        trigger = schedule.trigger
        assert isinstance(trigger, DataTrigger)
        if entry.polled is not None and now.timestamp() - entry.polled < trigger.polling_interval_s:
            return []
        digest = self.watch.fingerprint(trigger.path)
        with self._lock:
            if entry.polled is None or digest is None or digest == entry.data_hash:
                # the first look is the baseline; a vanished path is not new content
                self.book.set_data(entry.name, digest or entry.data_hash, now.timestamp())
                return []
            if not self.book.swap_data(entry.name, entry.data_hash, digest, now.timestamp()):
                return []  # another scheduler of this workspace took this change
        fired = self._fire(schedule, stamp(now), f"data changed under {trigger.path}")
        return [fired] if fired else []

    def _fire(self, schedule: Schedule, tick: str, reason: str) -> Fired | None:
        with self._lock:
            claimed = self.book.claim(schedule.name, tick, reason, self.clock().timestamp(), "")
        if not claimed:
            return None  # fired before: by an earlier pass, a previous process or another one

        report = self.report_to(schedule.name, tick)
        self.log(f"fired {schedule.name} {tick} ({reason})")
        report(None, "starting")
        try:
            self.launch(schedule, tick, report)
        except Exception as exc:  # a launcher bug must not stop the other schedules
            report(None, f"failed to start: {exc}")
            self.log(f"schedule {schedule.name}: tick {tick} failed to start: {exc}")
        return Fired(schedule.name, tick, reason)
