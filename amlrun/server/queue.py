"""The persisted run queue: submissions wait here until a worker process takes them.

A row's status moves queued -> running -> succeeded | failed | cancelled, or to
``interrupted`` when the server stopped while it ran (it can be resubmitted). Claiming the
next run is one UPDATE, so two dispatchers never start the same run; an Idempotency-Key is
a UNIQUE column, so the same submission sent twice is queued once.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amlrun.errors import AmlrunError
from amlrun.hashing import hash_json
from amlrun.server.db import connect

FINAL = ("succeeded", "failed", "cancelled", "interrupted")
_FINAL_SQL = "(" + ", ".join(f"'{s}'" for s in FINAL) + ")"
_COLUMNS = (
    "id, pipeline, version, request, status, submitted, started, finished, pid, "
    "submitted_by, error, cancel_requested, graph, resubmit_of"
)


class IdempotencyConflict(AmlrunError):
    """The Idempotency-Key was used before for a different submission."""


@dataclass(frozen=True)
class Submission:
    """What to run: a published pipeline (``version`` None: its default) with values, or,
    with ``file`` (a path relative to the workspace root, e.g. a schedule's ``create_job``),
    that pipeline file as it is when the run starts (``pipeline``: a name to list it by)."""

    pipeline: str
    version: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    file: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # a schedule's create_job.settings

    def request(self) -> dict[str, Any]:
        extra = {"file": self.file} if self.file is not None else {}
        extra.update({"settings": self.settings} if self.settings else {})
        return {"parameters": self.parameters, "inputs": self.inputs, **extra}


@dataclass(frozen=True)
class QueuedRun:
    id: str
    pipeline: str
    version: str | None
    request: dict[str, Any]
    status: str
    submitted: float
    started: float | None
    finished: float | None
    pid: int | None
    submitted_by: str | None
    error: str | None
    cancel_requested: bool
    graph: dict[str, Any] | None
    resubmit_of: str | None

    @classmethod
    def from_row(cls, row: tuple) -> QueuedRun:
        values = list(row)
        values[3] = json.loads(values[3])
        values[11] = bool(values[11])
        values[12] = json.loads(values[12]) if values[12] else None
        return cls(*values)

    @property
    def outputs(self) -> dict[str, Any]:
        """Pipeline output name -> {step, output}, once a worker has loaded the pipeline."""
        return (self.graph or {}).get("outputs", {})

    @property
    def submission(self) -> Submission:
        return Submission(self.pipeline, self.version, **self.request)


def new_id() -> str:
    """Sortable by time, like the engine's run ids, with enough randomness for bursts."""
    return time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:10]


def enqueue(
    amlrun_dir: Path,
    sub: Submission,
    *,
    by: str | None = None,
    idempotency_key: str | None = None,
    resubmit_of: str | None = None,
) -> tuple[str, bool]:
    """(run id, created): a repeated Idempotency-Key returns the run it queued first."""
    digest = hash_json({"pipeline": sub.pipeline, "version": sub.version, **sub.request()})
    run_id = new_id()
    with connect(amlrun_dir) as db:
        if idempotency_key is not None:
            row = db.execute(
                "SELECT id, request_hash FROM queue WHERE idempotency_key = ?", (idempotency_key,)
            ).fetchone()
            if row is not None:
                if row[1] != digest:
                    raise IdempotencyConflict(
                        f"Idempotency-Key '{idempotency_key}' was used for another submission "
                        f"(run {row[0]})"
                    )
                return row[0], False
        db.execute(
            "INSERT INTO queue (id, pipeline, version, request, status, submitted, "
            "idempotency_key, request_hash, submitted_by, resubmit_of) "
            "VALUES (?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?)",
            (
                run_id,
                sub.pipeline,
                sub.version,
                json.dumps(sub.request()),
                time.time(),
                idempotency_key,
                digest,
                by,
                resubmit_of,
            ),
        )
    return run_id, True


def get(amlrun_dir: Path, run_id: str) -> QueuedRun | None:
    with connect(amlrun_dir, write=False) as db:
        row = db.execute(f"SELECT {_COLUMNS} FROM queue WHERE id = ?", (run_id,)).fetchone()
    return QueuedRun.from_row(row) if row else None


def list_runs(
    amlrun_dir: Path, pipeline: str | None = None, status: str | None = None, limit: int = 100
) -> list[QueuedRun]:
    """Newest first, optionally of one pipeline and/or in one status."""
    where, args = [], []
    for column, value in (("pipeline", pipeline), ("status", status)):
        if value:
            where.append(f"{column} = ?")
            args.append(value)
    sql = f"SELECT {_COLUMNS} FROM queue"
    sql += (" WHERE " + " AND ".join(where)) if where else ""
    with connect(amlrun_dir, write=False) as db:
        rows = db.execute(f"{sql} ORDER BY submitted DESC LIMIT ?", (*args, limit)).fetchall()
    return [QueuedRun.from_row(r) for r in rows]


def claim_next(amlrun_dir: Path) -> QueuedRun | None:
    """The oldest queued run, now ``running`` (one statement: no run is claimed twice)."""
    with connect(amlrun_dir) as db:
        row = db.execute(
            f"UPDATE queue SET status = 'running', started = ? WHERE id = ("
            "SELECT id FROM queue WHERE status = 'queued' ORDER BY submitted LIMIT 1"
            f") RETURNING {_COLUMNS}",
            (time.time(),),
        ).fetchone()
    return QueuedRun.from_row(row) if row else None


def set_pid(amlrun_dir: Path, run_id: str, pid: int) -> None:
    with connect(amlrun_dir) as db:
        db.execute("UPDATE queue SET pid = ? WHERE id = ?", (pid, run_id))


def set_graph(amlrun_dir: Path, run_id: str, graph: dict[str, Any]) -> None:
    """The loaded pipeline as data (server.graph.describe): its outputs and steps."""
    with connect(amlrun_dir) as db:
        db.execute("UPDATE queue SET graph = ? WHERE id = ?", (json.dumps(graph), run_id))


def finish(amlrun_dir: Path, run_id: str, status: str, error: str | None = None) -> bool:
    """Record the end of a run once; False when it had ended already."""
    with connect(amlrun_dir) as db:
        return bool(
            db.execute(
                "UPDATE queue SET status = ?, finished = ?, error = COALESCE(?, error) "
                f"WHERE id = ? AND status NOT IN {_FINAL_SQL}",
                (status, time.time(), error, run_id),
            ).rowcount
        )


def force_status(amlrun_dir: Path, run_id: str, status: str, error: str) -> None:
    """Overwrite a run's final status (a run stopped by the server, not by a cancel)."""
    with connect(amlrun_dir) as db:
        db.execute(
            "UPDATE queue SET status = ?, error = ?, finished = ? WHERE id = ?",
            (status, error, time.time(), run_id),
        )


def request_cancel(amlrun_dir: Path, run_id: str) -> None:
    """A queued run is cancelled at once; a running one when its worker sees the signal."""
    with connect(amlrun_dir) as db:
        db.execute(
            "UPDATE queue SET status = 'cancelled', finished = ?, error = 'cancelled before "
            "it started' WHERE id = ? AND status = 'queued'",
            (time.time(), run_id),
        )
        db.execute(
            "UPDATE queue SET cancel_requested = 1 WHERE id = ? AND status = 'running'", (run_id,)
        )


def cancel_requested(amlrun_dir: Path) -> list[QueuedRun]:
    with connect(amlrun_dir, write=False) as db:
        rows = db.execute(
            f"SELECT {_COLUMNS} FROM queue WHERE status = 'running' AND cancel_requested = 1"
        ).fetchall()
    return [QueuedRun.from_row(r) for r in rows]


def interrupt_running(amlrun_dir: Path) -> list[QueuedRun]:
    """At server start: runs left ``running`` by a server that stopped are ``interrupted``."""
    with connect(amlrun_dir) as db:
        rows = db.execute(
            f"UPDATE queue SET status = 'interrupted', finished = ?, error = 'the server "
            f"stopped while it ran; resubmit it' WHERE status = 'running' RETURNING {_COLUMNS}",
            (time.time(),),
        ).fetchall()
    return [QueuedRun.from_row(r) for r in rows]


def set_steps(amlrun_dir: Path, run_id: str, rows: list[dict[str, Any]]) -> None:
    """Upsert live step states (the worker's view while the engine runs)."""
    with connect(amlrun_dir) as db:
        db.executemany(
            "INSERT INTO live_steps (run_id, name, status, key, duration_s, reason, log, position)"
            " VALUES (:run_id, :name, :status, :key, :duration_s, :reason, :log, :position)"
            " ON CONFLICT (run_id, name) DO UPDATE SET status = excluded.status,"
            " key = COALESCE(excluded.key, key), duration_s = excluded.duration_s,"
            " reason = excluded.reason, log = COALESCE(excluded.log, log)",
            [
                {
                    "run_id": run_id,
                    "key": None,
                    "duration_s": None,
                    "reason": None,
                    "log": None,
                    "position": None,
                    **r,
                }
                for r in rows
            ],
        )


def steps_of(amlrun_dir: Path, run_id: str) -> list[dict[str, Any]]:
    with connect(amlrun_dir, write=False) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT name, status, key, duration_s, reason, log FROM live_steps "
            "WHERE run_id = ? ORDER BY position, rowid",
            (run_id,),
        ).fetchall()
    return [dict(r) for r in rows]
