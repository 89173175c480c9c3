"""``amlrun runs outputs RUN [STEP] [-o DIR]``: what a recorded run's steps produced, listed
from the store, and put on disk (one folder per step and output) under the usual
destination rules, so any step output can be had without rerunning or promoting it."""

from __future__ import annotations

from pathlib import Path

import click

from amlrun.errors import SpecError


@click.command()
@click.argument("run_id", metavar="RUN")
@click.argument("step", required=False)
@click.option(
    "-o",
    "--output-dir",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Materialize the outputs under DIR/STEP/OUTPUT.",
)
@click.option(
    "--force-output",
    is_flag=True,
    help="Replace destinations that hold files amlrun did not write.",
)
def outputs(run_id: str, step: str | None, out_dir: str | None, force_output: bool) -> None:
    """The outputs of RUN's steps (or of STEP only): output, key, files and size.

    RUN is a run id, a prefix or the random suffix of one, `last` (the newest run)
    or `last~N` (N runs before it).
    """
    from amlrun.cache.store import open_store
    from amlrun.cli.runs import _db, _run_or_fail, table
    from amlrun.workspace import Workspace

    db = _db()
    rid, _pipeline, _started, _finished, _status, source = _run_or_fail(db, run_id)
    steps = {name: (status, key) for name, status, key, *_ in db.steps(rid) if key}
    keys = {name: key for name, (_status, key) in steps.items()}
    if step is not None and step not in keys:
        raise SpecError(
            f"run {rid} has no step '{step}' with a result",
            fix=f"see 'amlrun runs show {rid}'",
        )
    ws = Workspace.find()
    store = open_store(ws.config.get("store"), ws.root)
    manifests = {
        name: m
        for name, key in keys.items()
        if step in (None, name) and (m := store.get_manifest(key)) is not None
    }
    for name, (status, _key) in steps.items():
        if step in (None, name) and name not in manifests and status in ("ran", "reused"):
            click.echo(f"note: the result of {name} is no longer in the store", err=True)
    if not manifests:
        click.echo(f"run {rid}: no step outputs are in the store")
        return
    rows = [
        (name, out, keys[name][:12], str(len(spec["entries"])), _size(spec))
        for name, m in manifests.items()
        for out, spec in m["outputs"].items()
    ]
    click.echo(table(("STEP", "OUTPUT", "KEY", "FILES", "SIZE"), rows, right={3, 4}))
    if out_dir is not None:
        for path in _materialize(ws, store, manifests, Path(out_dir), source, force_output):
            click.echo(f"wrote {path}")


def _size(spec: dict) -> str:
    n = float(sum(size for _h, size, _mode in spec["entries"].values()))
    unit = "B"
    for bigger in ("KB", "MB", "GB"):
        if n < 1024:
            break
        n, unit = n / 1024, bigger
    return f"{n:.0f} B" if unit == "B" else f"{n:.1f} {unit}"


def _materialize(ws, store, manifests: dict, out_dir: Path, source: str, force: bool):
    """Each output restored at out_dir/STEP/OUTPUT, every destination checked first."""
    from amlrun.destinations import Destination, Destinations
    from amlrun.engine.materialize import WantedOutput, local_store_roots, materialize_outputs
    from amlrun.spec.names import folder_name

    wanted = {
        f"{name}.outputs.{out}": WantedOutput(
            name,
            out,
            Destination.of(f"-o {out_dir}", out_dir / name / folder_name(out)),
        )
        for name, m in manifests.items()
        for out in m["outputs"]
    }
    rules = Destinations(
        ws.dir, force=force, protected=[Path(source)], internal=list(local_store_roots(store))
    )
    rules.check_all(w.dest for w in wanted.values())
    return materialize_outputs(wanted, manifests, store, rules).values()
