"""``amlrun run PIPELINE``: run what changed, reuse everything else from the store."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

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
from amlrun.collector import paused

if TYPE_CHECKING:
    from amlrun.engine.expect import Expectation
    from amlrun.engine.report import Reporter
    from amlrun.engine.state import StepOutcome
    from amlrun.reports import ReportTarget


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
@click.option("--expect-reuse", is_flag=True, help="Exit 3, before running, if any step would run.")
@click.option("--expect-run", metavar="STEP,...", help="Exit 3 if a different set of steps runs.")
@click.option(
    "--report",
    "reports",
    multiple=True,
    metavar="FORMAT:FILE",
    help="Write a junit, json or markdown report, one row per step (repeatable).",
)
def run(**options) -> None:
    """Run PIPELINE (v2 or v1 YAML, or a Python file with an @amlrun.pipeline)."""
    with paused(freeze=True):  # resumed while steps execute (amlrun/collector.py)
        _run(**options)


def _run(
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
    expect_reuse,
    expect_run,
    reports,
) -> None:
    from amlrun.cli.main import parse_pairs
    from amlrun.engine.runner import Engine
    from amlrun.workspace import Workspace

    ws = Workspace.find()
    p, st = open_pipeline(ws, pipeline, sets, store, link)
    expect = _expectation(p.steps, expect_reuse, expect_run)
    targets = _report_targets(reports)
    options = {"dask": {"scheduler": scheduler}} if scheduler else {}
    reporter = None if as_json else _reporter(stream)
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
        invocation={"sets": list(sets), "cwd": os.getcwd()},
    )
    if dry_run:
        from amlrun.cli.status import print_plan

        engine.check_outputs()
        print_plan(p, engine.plan(), as_json)
        return
    from amlrun.pipelines.validate import check_runnable

    check_runnable(p.steps)
    if expect is not None:  # a step the plan says will run fails the job before it runs
        plan = Engine(p, workspace=ws, store=st, backend=backend, force=force).plan()
        if problems := expect.plan_violations(plan):
            _expected(problems, "before running", p.name, plan, None, targets)
    result = engine.run()
    if as_json:
        for note in engine.notes:  # the reporter prints them otherwise
            click.echo(f"note: {note}", err=True)
        click.echo(json.dumps(result.as_json()))
    problems = expect.run_violations(result.steps) if expect is not None else {}
    if problems and result.ok:
        _expected(problems, "after the run", p.name, result.steps, result.run_id, targets)
    _report(p.name, result.steps, result.run_id, problems, targets)
    sys.exit(0 if result.ok else 1)


# A null run imports neither expectations nor reports (start-up is hot) unless asked for.


def _reporter(stream: bool) -> Reporter:
    """The terminal's progress display (not for --json)."""
    from amlrun.engine.report import Reporter

    return Reporter(stream=stream)


def _expectation(
    steps: Iterable[str], expect_reuse: bool, expect_run: str | None
) -> Expectation | None:
    """--expect-reuse / --expect-run, checked before anything runs; None when neither."""
    if not expect_reuse and expect_run is None:
        return None
    from amlrun.engine.expect import Expectation

    return Expectation.from_options(steps, expect_reuse, expect_run)


def _expected(
    problems: dict[str, str],
    when: str,
    pipeline: str,
    steps: Iterable[StepOutcome],
    run_id: str | None,
    targets: list[ReportTarget],
) -> None:
    """The reports, then the job fails (exit 3): ``problems`` name the steps that broke the
    expectation."""
    from amlrun.engine.expect import failure

    _report(pipeline, steps, run_id, problems, targets)
    raise failure(problems, when)


def _report_targets(specs: tuple[str, ...]) -> list[ReportTarget]:
    if not specs:
        return []
    from amlrun.reports import parse_targets

    return parse_targets(specs)


def _report(
    pipeline: str,
    steps: Iterable[StepOutcome],
    run_id: str | None,
    problems: dict[str, str],
    targets: list[ReportTarget],
) -> None:
    """The --report files, and GitHub's step summary when the job has one (see reports)."""
    if targets or os.environ.get("GITHUB_STEP_SUMMARY"):
        from amlrun.reports import Report, write_reports

        write_reports(Report(pipeline, tuple(steps), run_id, problems), targets)
