"""The server's SQLite database (``.amlrun/server.sqlite``): tokens, sessions, the run queue
and live step states. One short-lived connection per operation: the request handlers run on
a thread pool and the workers are other processes, so nothing is shared but the file (WAL)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from amlrun.runs.db import open_database

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
  name TEXT PRIMARY KEY, scope TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,
  created REAL NOT NULL, revoked REAL
);
CREATE TABLE IF NOT EXISTS sessions (
  hash TEXT PRIMARY KEY, token TEXT NOT NULL, csrf TEXT NOT NULL, expires REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS queue (
  id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, version TEXT, request TEXT NOT NULL,
  status TEXT NOT NULL, submitted REAL NOT NULL, started REAL, finished REAL, pid INTEGER,
  idempotency_key TEXT UNIQUE, request_hash TEXT, submitted_by TEXT, error TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0, graph TEXT, resubmit_of TEXT
);
CREATE INDEX IF NOT EXISTS queue_by_status ON queue (status, submitted);
CREATE TABLE IF NOT EXISTS live_steps (
  run_id TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, key TEXT,
  duration_s REAL, reason TEXT, log TEXT, position INTEGER, PRIMARY KEY (run_id, name)
);
"""


_ready: set[Path] = set()  # databases this process has created the tables in


def db_path(amlrun_dir: Path) -> Path:
    return amlrun_dir / "server.sqlite"


@contextmanager
def connect(amlrun_dir: Path, write: bool = True) -> Iterator[sqlite3.Connection]:
    """A connection in one transaction (committed on success), closed afterwards; a
    ``write`` transaction takes the write lock up front, so it never fails half-way."""
    path = db_path(amlrun_dir)
    conn = _open(path)
    try:
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()


def _open(path: Path) -> sqlite3.Connection:
    if path not in _ready:
        path.parent.mkdir(parents=True, exist_ok=True)
        added = {"queue": ("graph TEXT",)}
        conn = open_database(path, _SCHEMA, added, timeout=60, isolation_level=None)
        _ready.add(path)
        return conn
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn
