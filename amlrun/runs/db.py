"""Run records in SQLite (WAL): every run, every step's status, key, timing and why.

Key components are kept per step so ``status`` can explain changes; snapshot file lists
are stored once per tree hash. A run records the pid and host of its process, so a later
run can tell a record left ``running`` by a killed process and mark it ``interrupted``.
"""

from __future__ import annotations

import json
import os
import platform  # its node() is socket.gethostname(), without importing socket
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, pipeline TEXT, source TEXT, started REAL, finished REAL, status TEXT,
  pid INTEGER, host TEXT, invocation TEXT
);
CREATE TABLE IF NOT EXISTS steps (
  run_id TEXT, name TEXT, status TEXT, key TEXT, duration_s REAL, reason TEXT,
  backend TEXT, log TEXT, components TEXT, PRIMARY KEY (run_id, name)
);
CREATE TABLE IF NOT EXISTS trees (hash TEXT PRIMARY KEY, files TEXT);
-- Steps are looked up by key only among the records of steps that executed (who produced
-- a key, did it fail): a reused step's row is in no index but the primary key, which a run's
-- rows extend at its end. Each row in an index of every step dirtied its own page of it (a
-- null run of 1,000 steps wrote 7 MB and spent 40 ms); nothing looks steps up by name alone.
CREATE INDEX IF NOT EXISTS steps_executed_by_key ON steps (key) WHERE status IN ('ran', 'failed');
DROP INDEX IF EXISTS steps_by_key;
DROP INDEX IF EXISTS steps_by_name;
CREATE TABLE IF NOT EXISTS step_last (
  source TEXT, name TEXT, components TEXT, PRIMARY KEY (source, name)
);
-- A key's components are stored once: a key is their hash, and a null run of 10,000 steps
-- otherwise added 2.4 MB of copies to the file. A step row keeps its own only without a key.
CREATE TABLE IF NOT EXISTS key_components (key TEXT PRIMARY KEY, components TEXT);
"""
#: a step row's key components: its own (rows of older amlruns, rows without a key), else
#: its key's
_COMPONENTS = (
    "COALESCE(s.components, (SELECT k.components FROM key_components k WHERE k.key = s.key))"
)
#: the partial index's condition, spelled as in _SCHEMA in each query that uses the index
_EXECUTED = "s.status IN ('ran', 'failed')"


def new_run_id() -> str:
    """Sorts by start time; the random part keeps runs started in one second apart."""
    return time.strftime("%Y%m%d-%H%M%S-") + os.urandom(3).hex()


def open_database(
    path: Path, schema: str, added: dict[str, tuple[str, ...]], **connect: Any
) -> sqlite3.Connection:
    """A WAL connection with ``schema`` created and the ``added`` columns (per table) that a
    database made by an older amlrun lacks.

    Every step is idempotent and retried while another process holds the file: the switch
    to WAL of a database being created at once by several runs fails at once with "database
    is locked" instead of waiting, and a column added by another run since it was looked for
    must not be added twice.
    """
    deadline = time.monotonic() + connect.get("timeout", 5.0)
    while True:
        conn = sqlite3.connect(path, **connect)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(schema)
            for table, columns in added.items():
                _add_missing_columns(conn, table, columns)
            return conn
        except sqlite3.OperationalError as exc:
            conn.close()
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _add_missing_columns(conn: sqlite3.Connection, table: str, columns: tuple[str, ...]) -> None:
    def missing() -> list[str]:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        return [column for column in columns if column.split()[0] not in have]

    if not missing():
        return
    conn.execute("BEGIN IMMEDIATE")  # looked for again under the write lock
    try:
        for column in missing():
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class RunDB:
    def __init__(self, path: Path) -> None:
        from amlrun.errors import AmlrunError, NoSpace

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            added = {"runs": ("pid INTEGER", "host TEXT", "invocation TEXT")}
            self.conn = open_database(path, _SCHEMA, added, timeout=30, check_same_thread=False)
        except OSError as exc:
            raise NoSpace(f"the run database {path}", exc) from None
        except sqlite3.OperationalError as exc:  # a read-only or full workspace folder
            raise AmlrunError(
                f"cannot open the run database {path}: {exc} "
                "(is the workspace folder read-only or full?)"
            ) from None

    def start_run(
        self, run_id: str, pipeline: str, source: str, invocation: dict | None = None
    ) -> None:
        """``invocation``: what the run was given (its --set values and folder), as JSON."""
        self.mark_interrupted()
        with self.conn:
            self.conn.execute(
                "INSERT INTO runs (id, pipeline, source, started, finished, status, pid, host, "
                "invocation) VALUES (?, ?, ?, ?, NULL, 'running', ?, ?, ?)",
                (
                    run_id,
                    pipeline,
                    source,
                    time.time(),
                    os.getpid(),
                    platform.node(),
                    json.dumps(invocation or {}),
                ),
            )

    def mark_interrupted(self) -> list[str]:
        """Runs left ``running`` by a process of this host that no longer exists."""
        rows = self.conn.execute(
            "SELECT id, pid FROM runs WHERE status = 'running' AND host = ? AND pid IS NOT NULL",
            (platform.node(),),
        ).fetchall()
        stale = [run_id for run_id, pid in rows if not _alive(pid)]
        with self.conn:
            self.conn.executemany(
                "UPDATE runs SET status = 'interrupted' WHERE id = ? AND status = 'running'",
                [(run_id,) for run_id in stale],
            )
        return stale

    def finish_run(self, run_id: str, status: str) -> None:
        with self.conn:
            self.conn.execute(
                "UPDATE runs SET finished = ?, status = ? WHERE id = ?",
                (time.time(), status, run_id),
            )

    def record_steps(self, run_id: str, rows: list[dict[str, Any]]) -> None:
        """Each step's outcome in run ``run_id``; its key components also become the step's
        newest (``step_last``), so explaining a rerun reads one row per step, not all runs."""
        components = {
            r["name"]: r.get("components_json") or json.dumps(r["components"])
            for r in rows
            if r.get("components")
        }
        #: rows whose components are their key's: computed with it (a sweep node takes its
        #: best trial's key, and no components of its own)
        keyed = {r["name"]: r["key"] for r in rows if r.get("key") and r.get("components_json")}
        source = self.conn.execute("SELECT source FROM runs WHERE id = ?", (run_id,)).fetchone()
        with self.conn:
            self.conn.executemany(
                "INSERT OR IGNORE INTO key_components VALUES (?, ?)",
                [(key, components[name]) for name, key in keyed.items()],
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        r["name"],
                        r["status"],
                        r.get("key"),
                        r.get("duration_s"),
                        r.get("reason"),
                        r.get("backend"),
                        r.get("log"),
                        None if r["name"] in keyed else components.get(r["name"]),
                    )
                    for r in rows
                ],
            )
            if source is not None:  # a row rewritten unchanged costs a null run a page write
                self.conn.executemany(
                    "INSERT INTO step_last VALUES (?, ?, ?) ON CONFLICT (source, name) "
                    "DO UPDATE SET components = excluded.components "
                    "WHERE components IS NOT excluded.components",
                    [(source[0], name, c) for name, c in components.items()],
                )

    def record_trees(self, trees: dict[str, dict[str, str]]) -> None:
        """Snapshot file lists by tree hash, in one transaction (one per tree: 1,000 commits);
        those recorded already are not encoded again (a null run knows every tree)."""
        hashes = list(trees)
        known: set[str] = set()
        for i in range(0, len(hashes), 500):  # SQLite's limit on parameters is 999
            chunk = hashes[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            query = f"SELECT hash FROM trees WHERE hash IN ({marks})"
            known.update(h for (h,) in self.conn.execute(query, chunk))
        with self.conn:
            self.conn.executemany(
                "INSERT OR IGNORE INTO trees VALUES (?, ?)",
                [(tree, json.dumps(files)) for tree, files in trees.items() if tree not in known],
            )

    def tree_files(self, tree_hash: str) -> dict[str, str]:
        row = self.conn.execute("SELECT files FROM trees WHERE hash = ?", (tree_hash,)).fetchone()
        return json.loads(row[0]) if row else {}

    def last_components(self, source: str) -> dict[str, dict]:
        """The newest recorded key components of each step of the pipeline at ``source``."""
        rows = self.conn.execute(
            "SELECT name, components FROM step_last WHERE source = ?", (source,)
        ).fetchall()
        if not rows:  # a database from before step_last: the history, once
            rows = self.conn.execute(
                f"SELECT s.name, {_COMPONENTS} FROM steps s JOIN runs r ON r.id = s.run_id "
                "WHERE r.source = ? ORDER BY r.started",
                (source,),
            ).fetchall()
            newest = {name: c for name, c in rows if c is not None}
            with self.conn:
                self.conn.executemany(
                    "INSERT OR REPLACE INTO step_last VALUES (?, ?, ?)",
                    [(source, name, c) for name, c in newest.items()],
                )
            rows = list(newest.items())
        return {name: json.loads(c) for name, c in rows}

    def producer(self, key: str) -> tuple[str, str] | None:
        """(run id, log path) of the newest run that ran the step with ``key``."""
        return self.conn.execute(
            "SELECT s.run_id, s.log FROM steps s JOIN runs r ON r.id = s.run_id "
            f"WHERE s.key = ? AND {_EXECUTED} AND s.status = 'ran' AND s.log IS NOT NULL "
            "ORDER BY r.started DESC",
            (key,),
        ).fetchone()

    def last_failure(self, source: str, name: str, key: str) -> tuple[str, str] | None:
        """(run id, reason) if the newest execution of step ``name`` with ``key`` failed."""
        row = self.conn.execute(
            "SELECT s.run_id, s.status, s.reason FROM steps s JOIN runs r ON r.id = s.run_id "
            f"WHERE s.key = ? AND {_EXECUTED} AND r.source = ? AND s.name = ? "
            "ORDER BY r.started DESC",
            (key, source, name),
        ).fetchone()
        return (row[0], row[2] or "") if row and row[1] == "failed" else None

    def runs(self, limit: int = 20) -> list[tuple]:
        return self.conn.execute(
            "SELECT id, pipeline, started, finished, status FROM runs "
            "ORDER BY started DESC LIMIT ?",
            (limit,),
        ).fetchall()

    def run(self, run_id: str) -> tuple | None:
        """The run named by its id, a prefix, its random suffix, ``last`` (the newest) or
        ``last~N`` (N runs before it), so a script can compare runs without knowing ids."""
        back = re.fullmatch(r"last(?:~(\d+))?", run_id)
        if back:
            return self.conn.execute(
                "SELECT id, pipeline, started, finished, status, source FROM runs "
                "ORDER BY started DESC LIMIT 1 OFFSET ?",
                (int(back.group(1) or 0),),
            ).fetchone()
        return self.conn.execute(
            "SELECT id, pipeline, started, finished, status, source FROM runs "
            "WHERE id = ? OR id LIKE ? OR id LIKE ? ORDER BY started DESC",
            (run_id, f"{run_id}%", f"%{run_id}"),  # a prefix, or the random suffix
        ).fetchone()

    def invocation(self, run_id: str) -> dict:
        """What run ``run_id`` (a full id) was given: ``{"sets": [...], "cwd": ...}``."""
        row = self.conn.execute("SELECT invocation FROM runs WHERE id = ?", (run_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else {}

    def steps(self, run_id: str) -> list[tuple]:
        return self.conn.execute(
            "SELECT name, status, key, duration_s, reason, backend, log FROM steps "
            "WHERE run_id = ? "
            "ORDER BY rowid",
            (run_id,),
        ).fetchall()

    def step_components(self, run_id: str) -> dict[str, dict]:
        """Step name -> the key components recorded for it in run ``run_id``."""
        return {name: c for name, (_, _, c) in self.step_records(run_id).items() if c}

    def step_records(self, run_id: str) -> dict[str, tuple[str, str | None, dict | None]]:
        """Step name -> (status, key, key components) as run ``run_id`` recorded it, in the
        order it recorded them."""
        rows = self.conn.execute(
            f"SELECT s.name, s.status, s.key, {_COMPONENTS} FROM steps s WHERE s.run_id = ? "
            "ORDER BY s.rowid",
            (run_id,),
        ).fetchall()
        return {n: (st, key, json.loads(c) if c else None) for n, st, key, c in rows}

    def key_pipelines(self) -> dict[str, str]:
        """Step key -> the pipeline of the newest run that recorded it."""
        rows = self.conn.execute(
            "SELECT s.key, r.pipeline FROM steps s JOIN runs r ON r.id = s.run_id "
            "WHERE s.key IS NOT NULL ORDER BY r.started"
        ).fetchall()
        return dict(rows)

    def close(self) -> None:
        self.conn.close()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (a reused pid reads as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    try:  # a killed process its parent has not reaped yet is dead too (Linux)
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]
