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
@click.option(
    "--sample",
    type=click.FloatRange(0, 1, min_open=True),
    default=1.0,
    help="Re-hash only this random fraction of the blobs (a remote store is read in full "
    "otherwise); every manifest is still checked.",
)
@click.option("--seed", type=int, help="Seed of --sample's pick, to see the same blobs again.")
def verify(store: str | None, repair: bool, sample: float, seed: int | None) -> None:
    """Re-hash every blob (or a sample) and check every manifest's blobs exist."""
    from amlrun.cache.sample import Sample

    problems = _store(store).verify(repair, Sample(sample, seed))
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
    "--keep-days",
    "--older-than-days",
    "keep_days",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Keep entries used (locally) or written (remote) since then.",
)
@click.option(
    "--keep-last-runs",
    type=click.IntRange(min=0),
    default=0,
    help="Also keep every entry of the last K runs recorded in .amlrun/runs.sqlite.",
)
def gc(store: str | None, keep_days: float, keep_last_runs: int) -> None:
    """Remove old entries, then blobs nothing refers to; refuses while a run uses the store."""
    from amlrun.cache.inuse import store_exclusive

    target = _store(store)
    keep = frozenset(_recent_keys(keep_last_runs))
    with store_exclusive(target):
        manifests, blobs = target.gc(keep_days * 86400, keep)
    click.echo(f"removed {manifests} entries and {blobs} blobs")


def _run_db():
    from amlrun.runs.db import RunDB
    from amlrun.workspace import Workspace

    return RunDB(Workspace.find().dir / "runs.sqlite")


def _recent_keys(runs: int) -> set[str]:
    if runs == 0:
        return set()
    db = _run_db()
    try:
        return {key for row in db.runs(runs) for _n, _s, key, *_ in db.steps(row[0]) if key}
    finally:
        db.close()


@cache.command()
@click.option("--store", metavar="URL", help=STORE_HELP)
@click.option("--json", "as_json", is_flag=True, help="One JSON document: layers and entries.")
def du(store: str | None, as_json: bool) -> None:
    """Size of the store by layer and by pipeline/step, read from its manifests."""
    import json
    from dataclasses import asdict

    from amlrun.cache.usage import usage

    layers, rows = usage(_store(store))
    db = _run_db()
    try:
        pipelines = db.key_pipelines()
    finally:
        db.close()
    entries = [{**asdict(r), "pipeline": pipelines.get(r.key, "?")} for r in rows]
    if as_json:
        click.echo(json.dumps({"layers": [asdict(u) for u in layers], "entries": entries}))
        return
    for u in layers:
        click.echo(f"{u.url}: {u.entries} entries, {_size(u.bytes)}")
    by_step: dict[tuple[str, str], list[int]] = {}
    for e in entries:
        by_step.setdefault((e["pipeline"], e["step"]), []).append(e["bytes"])
    for (pipeline, step), sizes in sorted(by_step.items()):
        click.echo(f"  {pipeline}/{step}: {len(sizes)} entries, {_size(sum(sizes))}")


def _size(n: int) -> str:
    value, unit = float(n), "B"
    for bigger in ("KiB", "MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"


def _keys(src, run: str | None, all_: bool) -> list[str]:
    """--all: every entry in ``src``; else the steps of RUN (default: the latest run)."""
    from amlrun.errors import SpecError

    if all_:
        return src.step_keys()
    db = _run_db()
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
