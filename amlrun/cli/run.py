"""``amlrun run PIPELINE``: run what changed, reuse everything else from the store."""

from __future__ import annotations

import json
import sys

import click

from amlrun.cli.common import (
    backend_option,
    jobs_option,
    link_option,
    open_pipeline,
    pipeline_argument,
    set_option,
    store_option,
)


@click.command()
@pipeline_argument
@set_option
@jobs_option
@store_option
@link_option
@backend_option
@click.option("--scheduler", metavar="ADDRESS", help="Dask scheduler (with --backend dask).")
@click.option("--force", multiple=True, metavar="STEP", help="Rerun STEP even if cached.")
@click.option(
    "--output",
    "-o",
    "outputs",
    multiple=True,
    metavar="NAME=PATH",
    help="Materialize a pipeline output at PATH.",
)
@click.option(
    "--force-output",
    is_flag=True,
    help="Replace output destinations that hold files amlrun did not write (a link: the link).",
)
@click.option("--dry-run", is_flag=True, help="Plan only: show what would run and why.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the result.")
@click.option(
    "--stream", is_flag=True, help="Print each step's output lines, prefixed with its name."
)
def run(
    pipeline,
    sets,
    jobs,
    store,
    link,
    backend,
    scheduler,
    force,
    outputs,
    force_output,
    dry_run,
    as_json,
    stream,
):
    """Run PIPELINE (v2 or v1 YAML, or a Python file with an @amlrun.pipeline)."""
    from amlrun.cli.main import parse_pairs
    from amlrun.engine.report import Reporter
    from amlrun.engine.runner import Engine
    from amlrun.workspace import Workspace

    ws = Workspace.find()
    p, st = open_pipeline(ws, pipeline, sets, store, link)
    options = {"dask": {"scheduler": scheduler}} if scheduler else {}
    reporter = None if as_json else Reporter(stream=stream)
    engine = Engine(
        p,
        workspace=ws,
        store=st,
        backend=backend,
        backend_options=options,
        jobs=jobs,
        force=force,
        reporter=reporter,
        stream_logs=stream,
        output_paths=parse_pairs(outputs, "--output"),
        force_output=force_output,
    )
    if dry_run:
        from amlrun.cli.status import print_plan

        engine.check_outputs()
        print_plan(p, engine.plan(), as_json)
        return
    from amlrun.pipelines.validate import check_runnable

    check_runnable(p.steps)
    result = engine.run()
    if as_json:
        for note in engine.notes:  # the reporter prints them otherwise
            click.echo(f"note: {note}", err=True)
        click.echo(json.dumps(result.as_json()))
    sys.exit(0 if result.ok else 1)
