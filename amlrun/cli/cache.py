"""``amlrun cache verify|gc``: check and trim the store."""

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
