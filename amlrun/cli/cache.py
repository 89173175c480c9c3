"""``amlrun cache verify|gc|push|pull``: check, trim and share the store."""

from __future__ import annotations

import sys

import click


def _store(url: str | None):
    from amlrun.cache.store import open_store
    from amlrun.workspace import Workspace

    ws = Workspace.find()
    return open_store(url or ws.config.get("store"), ws.root)


@click.group()
def cache() -> None:
    """Maintain the cache store."""


STORE_HELP = "The store (default: [tool.amlrun] store, else .amlrun/cache)."


@cache.command()
@click.option("--store", metavar="URL", help=STORE_HELP)
@click.option(
    "--repair",
    is_flag=True,
    help="Quarantine bad blobs (to <store>/quarantine/) and drop entries that need them, "
    "so the next run recomputes them.",
)
def verify(store: str | None, repair: bool) -> None:
    """Re-hash every blob and check every manifest's blobs exist."""
    problems = _store(store).verify(repair)
    for p in problems:
        click.echo(p)
    if not problems:
        click.echo("store ok")
    elif repair:
        click.echo(f"{len(problems)} problems repaired: the next run recomputes what they held")
    else:
        click.echo(f"{len(problems)} problems; 'amlrun cache verify --repair' mends them")
    sys.exit(1 if problems and not repair else 0)


@cache.command()
@click.option("--store", metavar="URL", help=STORE_HELP)
@click.option(
    "--older-than-days", default=30.0, show_default=True, help="Keep entries used since then."
)
def gc(store: str | None, older_than_days: float) -> None:
    """Remove entries not used recently, then blobs nothing refers to."""
    manifests, blobs = _store(store).gc(older_than_days * 86400)
    click.echo(f"removed {manifests} entries and {blobs} blobs")


def _keys(src, run: str | None, all_: bool) -> list[str]:
    """--all: every entry in ``src``; else the steps of RUN (default: the latest run)."""
    from amlrun.errors import SpecError
    from amlrun.runs.db import RunDB
    from amlrun.workspace import Workspace

    if all_:
        return src.step_keys()
    db = RunDB(Workspace.find().dir / "runs.sqlite")
    try:
        row = db.run(run) if run else next(iter(db.runs(1)), None)
        if row is None:
            raise SpecError(
                f"no run '{run}'" if run else "no run recorded yet",
                fix="see 'amlrun runs list', or pass --all",
            )
        return [key for _n, _s, key, *_ in db.steps(row[0]) if key]
    finally:
        db.close()


def _move(store: str | None, other: str | None, run: str | None, all_: bool, push: bool):
    from amlrun.cache.transfer import copy_entries, own_and_shared
    from amlrun.errors import SpecError
    from amlrun.workspace import Workspace

    if run and all_:
        raise SpecError("--run and --all contradict each other", fix="pass one of them")
    ws = Workspace.find()
    own, shared = own_and_shared(store or ws.config.get("store"), ws.root, other)
    src, dst = (own, shared) if push else (shared, own)
    result = copy_entries(src, dst, _keys(src, run, all_))
    click.echo(f"{result.summary('pushed' if push else 'pulled')} ({src.url} -> {dst.url})")


_run_option = click.option("--run", metavar="RUN", help="The entries of RUN (default: latest).")
_all_option = click.option("--all", "all_", is_flag=True, help="Every entry in the source.")


@cache.command()
@click.option("--store", metavar="URL")
@click.option("--to", metavar="URL", help="Default: the layers after the first of the store.")
@_run_option
@_all_option
def push(store: str | None, to: str | None, run: str | None, all_: bool) -> None:
    """Copy entries from the workspace's store to the shared one (from trusted jobs)."""
    _move(store, to, run, all_, push=True)


@cache.command()
@click.option("--store", metavar="URL")
@click.option("--from", "from_", metavar="URL", help="Default: the store's later layers.")
@_run_option
@_all_option
def pull(store: str | None, from_: str | None, run: str | None, all_: bool) -> None:
    """Copy entries from the shared store into the workspace's own."""
    _move(store, from_, run, all_, push=False)
