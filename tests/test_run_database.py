"""The run database is opened by every amlrun process of a workspace, often at once."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path

from amlrun.runs.db import RunDB

OLD_SCHEMA = """
CREATE TABLE runs (
  id TEXT PRIMARY KEY, pipeline TEXT, source TEXT, started REAL, finished REAL, status TEXT
);
INSERT INTO runs VALUES ('20250101-000000-aaaaaa', 'p', 'p.yml', 1.0, 2.0, 'succeeded');
"""


def _open_and_start(path: str, run_id: str, barrier) -> None:
    barrier.wait()
    RunDB(Path(path)).start_run(run_id, "p", "p.yml")


def _open_at_once(path: Path, count: int) -> list[int]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(count)
    procs = [
        ctx.Process(target=_open_and_start, args=(str(path), f"run-{n}", barrier))
        for n in range(count)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    return [proc.exitcode for proc in procs]


class _RacedConnection(sqlite3.Connection):
    """Another run adds the columns just after this one first looked: the race's window."""

    looked = 0

    def execute(self, sql: str, *args):  # type: ignore[override]
        result = super().execute(sql, *args)
        if sql.startswith("PRAGMA table_info") and not _RacedConnection.looked:
            _RacedConnection.looked = 1
            rows = result.fetchall()
            other = sqlite3.connect(self.path)
            with other:
                for column in ("pid INTEGER", "host TEXT", "invocation TEXT"):
                    other.execute(f"ALTER TABLE runs ADD COLUMN {column}")
            other.close()
            return iter(rows)
        return result


def test_a_run_opening_an_older_database_another_run_is_upgrading_succeeds(
    tmp_path: Path, monkeypatch
):
    path = tmp_path / "runs.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_SCHEMA)
    real_connect = sqlite3.connect

    def connect(target, **kwargs):
        conn = real_connect(target, factory=_RacedConnection, **kwargs)
        conn.path = target
        return conn

    monkeypatch.setattr(sqlite3, "connect", connect)
    db = RunDB(path)
    db.start_run("20250102-000000-bbbbbb", "p", "p.yml")

    columns = [row[1] for row in db.conn.execute("PRAGMA table_info(runs)")]
    assert columns.count("pid") == 1 and "invocation" in columns
    assert len(db.conn.execute("SELECT id FROM runs").fetchall()) == 2


def test_runs_creating_the_database_at_once_all_succeed(tmp_path: Path):
    path = tmp_path / ".amlrun" / "runs.sqlite"
    assert _open_at_once(path, 4) == [0] * 4
    assert len(RunDB(path).conn.execute("SELECT id FROM runs").fetchall()) == 4


def _record(db: RunDB, run_id: str, params: dict) -> None:
    db.start_run(run_id, "p", "p.yml")
    db.record_steps(run_id, [{"name": "train", "status": "ran", "components": {"params": params}}])


def test_a_steps_newest_key_components_are_read_without_its_history(tmp_path: Path):
    db = RunDB(tmp_path / "runs.sqlite")
    for n in range(3):
        _record(db, f"2026010{n}-000000-aaaaaa", {"lr": n})

    assert db.last_components("p.yml") == {"train": {"params": {"lr": 2}}}
    assert db.conn.execute("SELECT COUNT(*) FROM step_last").fetchone() == (1,)


def test_a_database_from_before_step_last_still_explains_from_the_newest_run(tmp_path: Path):
    db = RunDB(tmp_path / "runs.sqlite")
    for n in range(3):
        _record(db, f"2026010{n}-000000-aaaaaa", {"lr": n})
    with db.conn:
        db.conn.execute("DELETE FROM step_last")  # what an older amlrun left

    assert db.last_components("p.yml") == {"train": {"params": {"lr": 2}}}
    assert db.conn.execute("SELECT COUNT(*) FROM step_last").fetchone() == (1,)  # kept now


def _steps(db: RunDB, run_id: str, status: str, key: str = "k1") -> None:
    db.start_run(run_id, "p", "p.yml")
    db.record_steps(run_id, [{"name": "train", "status": status, "key": key}])


def test_reused_steps_are_in_no_index_so_a_null_run_writes_its_rows_only(tmp_path: Path):
    path = tmp_path / "runs.sqlite"
    with sqlite3.connect(path) as old:  # what an older amlrun made: every row in 2 indexes
        old.executescript(OLD_SCHEMA)
        old.execute("CREATE TABLE steps (run_id TEXT, name TEXT, status TEXT, key TEXT)")
        old.execute("CREATE INDEX steps_by_name ON steps (name)")
        old.execute("CREATE INDEX steps_by_key ON steps (key)")
    db = RunDB(path)
    indexes = db.conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'steps'"
    ).fetchall()

    assert [name for name, sql in indexes if sql and "WHERE" not in sql] == []
    assert "steps_executed_by_key" in {name for name, _ in indexes}


def test_who_ran_a_key_and_whether_it_failed_are_found_among_reused_records(tmp_path: Path):
    db = RunDB(tmp_path / "runs.sqlite")
    _steps(db, "20260101-000000-aaaaaa", "failed")
    _steps(db, "20260102-000000-aaaaaa", "reused", key="k2")

    assert db.last_failure("p.yml", "train", "k1") == ("20260101-000000-aaaaaa", "")
    _steps(db, "20260103-000000-aaaaaa", "ran")
    with db.conn:
        db.conn.execute("UPDATE steps SET log = 'l.log' WHERE status = 'ran'")
    _steps(db, "20260104-000000-aaaaaa", "reused")

    assert db.last_failure("p.yml", "train", "k1") is None
    assert db.producer("k1") == ("20260103-000000-aaaaaa", "l.log")


def _keyed_rows(n: int, status: str) -> list[dict]:
    parts = [{"params": {"i": i}, "snapshot": f"tree{i}"} for i in range(n)]
    return [
        {"name": f"s{i}", "status": status, "key": f"key{i}", "components": p,
         "components_json": json.dumps(p)}
        for i, p in enumerate(parts)
    ]  # fmt: skip


def test_a_null_run_records_its_steps_without_another_copy_of_their_components(tmp_path: Path):
    db = RunDB(tmp_path / "runs.sqlite")
    runs = [f"2026010{n}-000000-aaaaaa" for n in range(4)]
    for n, run_id in enumerate(runs):
        db.start_run(run_id, "p", "p.yml")
        db.record_steps(run_id, _keyed_rows(200, "ran" if n == 0 else "reused"))

    copies = db.conn.execute("SELECT COUNT(*) FROM key_components").fetchone()[0]
    inline = db.conn.execute("SELECT COUNT(*) FROM steps WHERE components IS NOT NULL")
    assert (copies, inline.fetchone()[0]) == (200, 0)  # once per key, not once per run
    for run_id in runs:  # every run still says what each step was keyed with
        assert db.step_components(run_id)["s7"] == {"params": {"i": 7}, "snapshot": "tree7"}
        assert db.step_records(run_id)["s7"][1] == "key7"


def test_rows_recorded_by_an_older_amlrun_keep_their_own_components(tmp_path: Path):
    db = RunDB(tmp_path / "runs.sqlite")
    db.start_run("20250101-000000-aaaaaa", "p", "p.yml")
    with db.conn:  # what an amlrun without key_components wrote
        db.conn.execute(
            "INSERT INTO steps VALUES (?, 's0', 'ran', 'key0', 1.0, '', 'local', NULL, ?)",
            ("20250101-000000-aaaaaa", json.dumps({"params": {"i": 0}})),
        )

    assert db.step_components("20250101-000000-aaaaaa") == {"s0": {"params": {"i": 0}}}
