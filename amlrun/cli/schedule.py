"""``amlrun schedule create|list|show|enable|disable|delete``: the v2 schedule YAML, kept in
``.amlrun/schedules.sqlite`` and fired by ``amlrun scheduler`` (or ``amlrun serve``)."""

from __future__ import annotations

import difflib
import json
from datetime import datetime, timezone
from pathlib import Path

import click

from amlrun.errors import SpecError
from amlrun.schedules.model import CATCH_UP, DataTrigger
from amlrun.schedules.summary import describe, facts, next_tick


def _book(create: bool = False):
    """The workspace's schedule book; None when it has none (reading never creates one)."""
    from amlrun.schedules.book import Book
    from amlrun.workspace import Workspace

    path = Workspace.find().dir / "schedules.sqlite"
    return Book(path) if create or path.is_file() else None


def _entry(name: str):
    book = _book()
    entry = book.entry(name) if book is not None else None
    if entry is None:
        names = [e.name for e in book.entries()] if book is not None else []
        close = difflib.get_close_matches(name, names, n=1)
        fix = f"did you mean '{close[0]}'?" if close else "see 'amlrun schedule list'"
        raise SpecError(f"no schedule '{name}'", fix=fix)
    return book, entry


@click.group()
def schedule() -> None:
    """Run pipelines on a cron or recurrence trigger, or when data changes."""


@schedule.command()
@click.option("-f", "--file", "file", required=True, type=click.Path(dir_okay=False))
@click.option(
    "--catch-up",
    type=click.Choice(CATCH_UP),
    help="Ticks missed while no scheduler ran: none (default), latest or all; "
    "overrides 'amlrun: catch_up:' in the file.",
)
def create(file: str, catch_up: str | None) -> None:
    """Create a schedule from FILE, or update the one of that name (its history is kept)."""
    from amlrun.schedules.datawatch import DataWatch
    from amlrun.schedules.parse import parse_schedule
    from amlrun.spec import yamlio

    path = Path(file).resolve()
    doc = yamlio.load(path)
    parsed = parse_schedule(doc, path, catch_up)
    if parsed.job.published:  # an unknown name or version is told now, not at the first tick
        from amlrun.registry.pipelines import find_version, pipeline_registry
        from amlrun.schedules.published_run import published_ref
        from amlrun.workspace import Workspace

        find_version(pipeline_registry(Workspace.find().root), *published_ref(parsed.job.pipeline))
    book = _book(create=True)
    now = datetime.now(timezone.utc).timestamp()
    created = book.put(parsed.name, str(path), doc, catch_up, now)
    if isinstance(parsed.trigger, DataTrigger):  # changes count from now
        book.set_data(parsed.name, DataWatch().fingerprint(parsed.trigger.path), now)
    entry = book.entry(parsed.name)
    verb = "created" if created else "updated"
    click.echo(
        f"{verb} schedule {parsed.name}: {describe(parsed)}, catch_up {parsed.catch_up}, "
        f"next {next_tick(parsed, entry)}"
    )


@schedule.command("list")
def list_() -> None:
    """Every schedule with its trigger, next tick and last firing."""
    from amlrun.cli.runs import table

    book = _book()
    entries = book.entries() if book is not None else []
    if not entries:
        click.echo("no schedules ('amlrun schedule create -f SCHEDULE.yml' adds one)")
        return
    rows = []
    for e in entries:
        f = facts(e)
        last = book.firings(e.name, limit=1)
        last_text = f"{last[0].tick} {last[0].outcome}" if last else "-"
        state = "enabled" if e.enabled else "disabled"
        rows.append((e.name, state, f["trigger"], f["next"], last_text))
    click.echo(table(("NAME", "STATE", "TRIGGER", "NEXT", "LAST FIRING"), rows))


@schedule.command()
@click.argument("name")
@click.option("-n", "--limit", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(name: str, limit: int, as_json: bool) -> None:
    """A schedule's definition and its firings, newest first: tick, run and outcome."""
    from amlrun.cli.runs import table

    book, entry = _entry(name)
    f = facts(entry)
    firings = book.firings(name, limit=limit)
    if as_json:
        keys = ("tick", "reason", "run_id", "outcome")
        out = {"name": name, "enabled": entry.enabled, "file": entry.file, **f}
        out["firings"] = [{k: getattr(x, k) for k in keys} for x in firings]
        click.echo(json.dumps(out))
        return
    state = "enabled" if entry.enabled else "disabled"
    click.echo(f"schedule {name} ({state}): {f['trigger']}, catch_up {f['catch_up']}")
    if f["problem"]:
        click.echo(f"  problem: {f['problem']}")
    click.echo(f"  job: {f['job'] or '-'}   next: {f['next']}   file: {entry.file}")
    if not firings:
        click.echo("  no firings yet ('amlrun scheduler' fires due ticks)")
        return
    rows = [(f.tick, f.run_id or "-", f.outcome, f.reason) for f in firings]
    click.echo(table(("TICK", "RUN", "OUTCOME", "REASON"), rows, indent="  "))


@schedule.command()
@click.argument("name")
def enable(name: str) -> None:
    """Fire NAME's ticks again, from now on: the ticks while it was disabled stay unfired."""
    book, _ = _entry(name)
    book.set_enabled(name, True)
    book.advance(name, datetime.now(timezone.utc).timestamp())
    click.echo(f"enabled schedule {name}")


@schedule.command()
@click.argument("name")
def disable(name: str) -> None:
    """Stop firing NAME (its definition and history are kept)."""
    book, _ = _entry(name)
    book.set_enabled(name, False)
    click.echo(f"disabled schedule {name}")


@schedule.command()
@click.argument("name")
def delete(name: str) -> None:
    """Delete NAME and its firing history; the runs it started stay in 'amlrun runs list'."""
    book, _ = _entry(name)
    book.delete(name)
    click.echo(f"deleted schedule {name}")
