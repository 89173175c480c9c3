"""``amlrun scheduler``: fire the workspace's schedules, each run in its own subprocess."""

from __future__ import annotations

import click


def _now_option(ctx: click.Context, param: click.Parameter, value: str | None):
    if value is None:
        return None
    from amlrun.schedules.zones import UTC, parse_time

    try:
        return parse_time(value, UTC)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time") from None


@click.command()
@click.option("--once", is_flag=True, help="One pass: fire what is due, wait for its runs, exit.")
@click.option(
    "--every",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    metavar="SECONDS",
    help="How often due ticks are looked for.",
)
@click.option(
    "--now",
    metavar="TIME",
    callback=_now_option,
    help="With --once: the pass takes TIME (ISO 8601, UTC if no offset) as the current time.",
)
def scheduler(once: bool, every: float, now) -> None:
    """Fire due schedule ticks and data changes until stopped (Ctrl-C)."""
    import threading

    from amlrun.errors import SpecError
    from amlrun.schedules.book import Book
    from amlrun.schedules.launch import ProcessLauncher
    from amlrun.schedules.scheduler import Scheduler, utc_now
    from amlrun.workspace import Workspace

    if now is not None and not once:
        raise SpecError("--now needs --once", field="--now", fix="add --once")
    ws = Workspace.find()
    launcher = ProcessLauncher(ws.root)

    def log(line: str) -> None:
        click.echo(f"{utc_now():%H:%M:%S} {line}", err=True)

    book = Book(ws.dir / "schedules.sqlite")
    sched = Scheduler(book, launcher, clock=(lambda: now) if now else utc_now, log=log)
    if once:
        sched.poll()
        launcher.wait()
        return
    log(f"scheduler started for {ws.root} (Ctrl-C stops it)")
    sched.serve(threading.Event(), every)
