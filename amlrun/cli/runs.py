"""``amlrun runs list|show|logs``: the run records kept in .amlrun/runs.sqlite."""

from __future__ import annotations

import time

import click

from amlrun.errors import SpecError


def _db():
    from amlrun.runs.db import RunDB
    from amlrun.workspace import Workspace

    return RunDB(Workspace.find().dir / "runs.sqlite")


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


@click.group()
def runs() -> None:
    """Inspect past runs."""


@runs.command("list")
@click.option("-n", "--limit", default=20, show_default=True)
def list_(limit: int) -> None:
    """Recent runs, newest first."""
    for run_id, pipeline, started, finished, status in _db().runs(limit):
        took = f"{finished - started:.2f}s" if finished else "-"
        click.echo(f"{run_id}  {_when(started)}  {status:9} {took:>8}  {pipeline}")


def _run_or_fail(db, run_id: str):
    row = db.run(run_id)
    if row is None:
        raise SpecError(f"no run '{run_id}'", fix="see 'amlrun runs list'")
    return row


@runs.command()
@click.argument("run_id")
def show(run_id: str) -> None:
    """Steps of one run with status, key, duration and reason."""
    db = _db()
    rid, pipeline, started, _finished, status, source = _run_or_fail(db, run_id)
    click.echo(f"run {rid}: {pipeline} ({source}) {status}, started {_when(started)}")
    for name, st, key, dur, reason, backend, _log in db.steps(rid):
        click.echo(
            f"  {st:9} {name}  {(key or '')[:12]}  {dur or 0:.2f}s  {backend or ''}  {reason or ''}"
        )


@runs.command()
@click.argument("run_id")
@click.argument("step")
def logs(run_id: str, step: str) -> None:
    """The captured output of STEP in RUN."""
    from pathlib import Path

    db = _db()
    rid = _run_or_fail(db, run_id)[0]
    for name, status, _key, _dur, _reason, _backend, log in db.steps(rid):
        if name == step:
            if not log:
                raise SpecError(
                    f"step '{step}' was {status} and has no log in this run",
                    fix="look at the run that produced it",
                )
            click.echo(Path(log).read_text(errors="replace"), nl=False)
            return
    raise SpecError(f"run {rid} has no step '{step}'", fix=f"see 'amlrun runs show {rid}'")
