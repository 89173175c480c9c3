"""``amlrun runs list|show|logs``: the run records kept in .amlrun/runs.sqlite."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import click

from amlrun.errors import SpecError


def _db():
    """The run database, or None when this workspace has none (reading never creates it)."""
    from amlrun.runs.db import RunDB
    from amlrun.workspace import Workspace

    path = Workspace.find().dir / "runs.sqlite"
    return RunDB(path) if path.is_file() else None


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


def table(
    header: Sequence[str], rows: list[Sequence[str]], right: set[int] = frozenset(), indent=""
) -> str:
    """Columns padded to their widest cell (``right``: right-aligned columns, e.g. times)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append(indent + "  ".join(cells).rstrip())
    return "\n".join(lines)


@click.group()
def runs() -> None:
    """Inspect past runs."""


@runs.command("list")
@click.option(
    "-n", "--limit", default=20, show_default=True, type=click.IntRange(min=1), help="Runs shown."
)
def list_(limit: int) -> None:
    """Recent runs, newest first."""
    db = _db()
    rows = db.runs(limit) if db is not None else []
    if not rows:
        click.echo("no runs recorded yet ('amlrun run PIPELINE' records one)")
        return
    for run_id, pipeline, started, finished, status in rows:  # fixed widths: aligned
        took = f"{finished - started:.2f}s" if finished else "-"
        click.echo(f"{run_id}  {_when(started)}  {status:11} {took:>9}  {pipeline}")


def _run_or_fail(db, run_id: str):
    row = db.run(run_id) if db is not None else None
    if row is None:
        raise SpecError(f"no run '{run_id}'", fix="see 'amlrun runs list'")
    return row


@runs.command()
@click.argument("run_id", metavar="RUN")
@click.option("--json", "as_json", is_flag=True, help="Print the run as JSON.")
def show(run_id: str, as_json: bool) -> None:
    """Steps of one run with status, key, duration and reason, and the metrics and params
    their scripts logged through mlflow (a reused step's come from the run that produced it).

    RUN is a run id, a prefix or the random suffix of one, `last` (the newest run)
    or `last~N` (N runs before it).
    """
    from amlrun.runs.metrics import step_metrics

    db = _db()
    rid, pipeline, started, finished, status, source = _run_or_fail(db, run_id)
    steps, logged = db.steps(rid), step_metrics(db, rid)
    if as_json:
        fields = ("name", "status", "key", "duration_s", "reason", "backend", "log")
        rows = [dict(zip(fields, s)) for s in steps]
        for row in rows:
            row.update(logged[row["name"]].as_json() if row["name"] in logged else {})
        run = {"run_id": rid, "pipeline": pipeline, "source": source, "status": status}
        click.echo(json.dumps({**run, "started": started, "finished": finished, "steps": rows}))
        return
    click.echo(f"run {rid}: {pipeline} ({source}) {status}, started {_when(started)}")
    rows = [
        (st, name, (key or "")[:12], f"{dur or 0:.2f}s", backend or "-", reason or "")
        for name, st, key, dur, reason, backend, _log in steps
    ]
    header = ("STATUS", "STEP", "KEY", "TIME", "BACKEND", "REASON")
    click.echo(table(header, rows, right={3}, indent="  "))
    _show_logged(logged, rid)


def _show_logged(logged: dict, rid: str) -> None:
    from amlrun.cli.runs_metrics import metric_rows, param_rows

    metrics, params = metric_rows(logged, rid), param_rows(logged, rid)
    if metrics:
        header = ("STEP", "METRIC", "LAST", "AT STEP", "POINTS", "LOGGED BY")
        click.echo("metrics (mlflow):\n" + table(header, metrics, right={2, 3, 4}, indent="  "))
    if params:
        header = ("STEP", "PARAM", "VALUE", "LOGGED BY")
        click.echo("params (mlflow):\n" + table(header, params, indent="  "))


@runs.command()
@click.argument("run_id", metavar="RUN")
@click.argument("step")
def logs(run_id: str, step: str) -> None:
    """The captured output of STEP in RUN (of the run that produced it, if RUN reused it).

    RUN is a run id, a prefix or the random suffix of one, `last` (the newest run)
    or `last~N` (N runs before it).
    """
    db = _db()
    rid = _run_or_fail(db, run_id)[0]
    row = next((r for r in db.steps(rid) if r[0] == step), None)
    if row is None:
        raise SpecError(f"run {rid} has no step '{step}'", fix=f"see 'amlrun runs show {rid}'")
    _name, status, key, _dur, _reason, _backend, log = row
    if log:
        click.echo(_read(log, step), nl=False)
        return
    producer = db.producer(key) if key else None
    if producer is not None:
        click.echo(f"amlrun: {step} was {status} in run {rid}; log of run {producer[0]}:", err=True)
        click.echo(_read(producer[1], step), nl=False)
        return
    stored = _stored_log(key) if key else None
    if stored is None:
        raise SpecError(
            f"step '{step}' was {status} in run {rid} and has no log",
            fix=f"'amlrun run PIPELINE --force {step}' reruns it",
        )
    click.echo(f"amlrun: {step} was {status} in run {rid}; log stored with its result:", err=True)
    click.echo(stored.decode(errors="replace"), nl=False)


def _read(log: str, step: str) -> str:
    if not Path(log).is_file():
        raise SpecError(f"the log {log} is gone", fix=f"rerun the step with --force {step}")
    return Path(log).read_text(errors="replace")


def _stored_log(key: str) -> bytes | None:
    """The log kept in the store's entry for ``key`` (a result another machine produced)."""
    from amlrun.cache.store import open_store
    from amlrun.workspace import Workspace

    ws = Workspace.find()
    store = open_store(ws.config.get("store"), ws.root, read_only=True)
    digest = (store.get_manifest(key) or {}).get("log")
    return store.get_bytes(digest) if digest else None


from amlrun.cli.runs_compare import compare  # noqa: E402  (they read the helpers above)
from amlrun.cli.runs_outputs import outputs  # noqa: E402

runs.add_command(outputs)
runs.add_command(compare)
