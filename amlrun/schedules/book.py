"""Schedules and their firings in ``.amlrun/schedules.sqlite`` (WAL).

A firing is claimed by inserting its (schedule, tick) row before anything is launched: the
primary key makes a second claim of the same tick fail, so neither a restart nor a second
scheduler on the same workspace fires a tick twice. ``evaluated`` is how far each schedule's
ticks have been looked at, so a restart knows which ticks it missed.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amlrun.runs.db import open_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schedules (
  name TEXT PRIMARY KEY, file TEXT, doc TEXT, catch_up TEXT, enabled INTEGER, created REAL,
  evaluated REAL, data_hash TEXT, polled REAL
);
CREATE TABLE IF NOT EXISTS firings (
  schedule TEXT, tick TEXT, fired REAL, reason TEXT, run_id TEXT, outcome TEXT, pid INTEGER,
  PRIMARY KEY (schedule, tick)
);
"""


UNKNOWN = "unknown: its scheduler stopped before the run ended (see amlrun runs list)"


@dataclass(frozen=True)
class Entry:
    """One stored schedule: its YAML document as created, and its progress."""

    name: str
    file: str
    doc: dict[str, Any]
    catch_up: str | None  # the --catch-up given at creation, over the file's
    enabled: bool
    created: float
    evaluated: float | None
    data_hash: str | None
    polled: float | None


@dataclass(frozen=True)
class Firing:
    schedule: str
    tick: str  # ISO 8601 UTC instant: the tick, or the moment a data change was seen
    fired: float
    reason: str
    run_id: str | None
    outcome: str


class Book:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = open_database(path, _SCHEMA, {}, timeout=30, check_same_thread=False)

    def put(self, name: str, file: str, doc: dict, catch_up: str | None, now: float) -> bool:
        """Create schedule ``name``, or replace its definition keeping its progress (True:
        created), as ``az ml schedule create`` creates or updates."""
        with self.conn:
            updated = self.conn.execute(
                "UPDATE schedules SET file = ?, doc = ?, catch_up = ? WHERE name = ?",
                (file, json.dumps(doc, default=str), catch_up, name),
            ).rowcount
            if not updated:
                self.conn.execute(
                    "INSERT INTO schedules VALUES (?, ?, ?, ?, 1, ?, NULL, NULL, NULL)",
                    (name, file, json.dumps(doc, default=str), catch_up, now),
                )
        return not updated

    def entries(self) -> list[Entry]:
        rows = self.conn.execute("SELECT * FROM schedules ORDER BY name").fetchall()
        return [Entry(r[0], r[1], json.loads(r[2]), r[3], bool(r[4]), *r[5:]) for r in rows]

    def entry(self, name: str) -> Entry | None:
        return next((e for e in self.entries() if e.name == name), None)

    def set_enabled(self, name: str, enabled: bool) -> bool:
        with self.conn:
            return bool(
                self.conn.execute(
                    "UPDATE schedules SET enabled = ? WHERE name = ?", (int(enabled), name)
                ).rowcount
            )

    def delete(self, name: str) -> bool:
        """Forget the schedule and its firings; the runs it started stay in ``runs list``."""
        with self.conn:
            self.conn.execute("DELETE FROM firings WHERE schedule = ?", (name,))
            return bool(self.conn.execute("DELETE FROM schedules WHERE name = ?", (name,)).rowcount)

    def advance(self, name: str, evaluated: float) -> None:
        with self.conn:
            self.conn.execute(  # never backwards: a tick once looked at stays behind
                "UPDATE schedules SET evaluated = MAX(COALESCE(evaluated, 0), ?) WHERE name = ?",
                (evaluated, name),
            )

    def set_data(self, name: str, data_hash: str | None, polled: float) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE schedules SET data_hash = ?, polled = ? WHERE name = ?",
                (data_hash, polled, name),
            )

    def swap_data(self, name: str, old: str | None, new: str, polled: float) -> bool:
        """Record content ``new`` if the stored one is still ``old`` (True): of two schedulers
        seeing one change, one fires it."""
        with self.conn:
            return bool(
                self.conn.execute(
                    "UPDATE schedules SET data_hash = ?, polled = ? "
                    "WHERE name = ? AND data_hash IS ?",
                    (new, polled, name, old),
                ).rowcount
            )

    def claim(self, schedule: str, tick: str, reason: str, now: float, outcome: str) -> bool:
        """Record the firing of ``tick``; False if it was recorded before (never fire twice)."""
        try:
            with self.conn:
                self.conn.execute(
                    "INSERT INTO firings VALUES (?, ?, ?, ?, NULL, ?, ?)",
                    (schedule, tick, now, reason, outcome, os.getpid()),
                )
        except sqlite3.IntegrityError:
            return False
        return True

    def settle_orphans(self) -> None:
        """Firings whose scheduler process died before their run ended: their outcome is
        not known here (the run, if it started, is in ``amlrun runs list``)."""
        from amlrun.backends.procs import pid_alive

        rows = self.conn.execute(
            "SELECT schedule, tick, pid FROM firings "
            "WHERE outcome IN ('', 'starting', 'running') AND pid IS NOT NULL"
        ).fetchall()
        lost = [(s, t) for s, t, pid in rows if pid != os.getpid() and not pid_alive(pid)]
        with self.conn:
            self.conn.executemany(
                "UPDATE firings SET outcome = ? WHERE schedule = ? AND tick = ?",
                [(UNKNOWN, s, t) for s, t in lost],
            )

    def following(self) -> list[tuple[str, str, str]]:
        """(schedule, tick, run id) of firings queued in a server and not finished yet."""
        return self.conn.execute(
            "SELECT schedule, tick, run_id FROM firings "
            "WHERE run_id IS NOT NULL AND outcome IN ('queued', 'running')"
        ).fetchall()

    def report(self, schedule: str, tick: str, run_id: str | None, outcome: str) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE firings SET run_id = COALESCE(?, run_id), outcome = ? "
                "WHERE schedule = ? AND tick = ?",
                (run_id, outcome, schedule, tick),
            )

    def firings(self, schedule: str, limit: int = 50) -> list[Firing]:
        rows = self.conn.execute(
            "SELECT schedule, tick, fired, reason, run_id, outcome FROM firings "
            "WHERE schedule = ? ORDER BY tick DESC LIMIT ?",
            (schedule, limit),
        ).fetchall()
        return [Firing(*r) for r in rows]

    def close(self) -> None:
        self.conn.close()
