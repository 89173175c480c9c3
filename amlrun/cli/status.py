"""``amlrun status PIPELINE``: for each step, whether it would run and why."""

from __future__ import annotations

import json

import click

from amlrun.cli.common import (
    backend_option,
    open_pipeline,
    pipeline_argument,
    set_option,
    store_option,
)


def print_plan(pipeline, outcomes, as_json: bool) -> None:
    if as_json:
        click.echo(
            json.dumps({"pipeline": pipeline.name, "steps": [o.as_json() for o in outcomes]})
        )
        return
    width = max((len(o.name) for o in outcomes), default=4)
    for o in outcomes:
        click.echo(f"{o.status:10} {o.name:{width}}  {o.reason}")
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    click.echo(", ".join(f"{n} {k}" for k, n in sorted(counts.items())))


@click.command()
@pipeline_argument
@set_option
@store_option
@backend_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(pipeline, sets, store, backend, as_json):
    """Explain, per step, what a run would do: reused, or would run because of what."""
    from amlrun.engine.runner import Engine
    from amlrun.workspace import Workspace

    with Workspace.find().scratch() as ws:  # looking never creates .amlrun/
        p, st = open_pipeline(ws, pipeline, sets, store)
        print_plan(p, Engine(p, workspace=ws, store=st, backend=backend).plan(), as_json)
