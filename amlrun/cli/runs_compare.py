"""``amlrun runs compare RUN_A RUN_B``: which steps reran and why, and what the scripts logged."""

from __future__ import annotations

import json

import click


@click.command()
@click.argument("run_a")
@click.argument("run_b")
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare(run_a: str, run_b: str, as_json: bool) -> None:
    """RUN_B against RUN_A: per step, the status in each and why the key changed (as
    'amlrun status' explains it); the params logged through mlflow that differ; every
    logged metric's last value in each run and the difference.

    A run is named as in 'amlrun runs show': `amlrun runs compare last~1 last` compares
    the last two runs."""
    from amlrun.cli.runs import _db, _run_or_fail, table
    from amlrun.cli.runs_metrics import value
    from amlrun.reports.compare import compare_runs

    db = _db()
    a, b = _run_or_fail(db, run_a), _run_or_fail(db, run_b)
    result = compare_runs(db, a[0], b[0])
    if as_json:
        click.echo(json.dumps(result.as_json()))
        return
    click.echo(f"A: run {a[0]}: {a[1]} {a[4]}\nB: run {b[0]}: {b[1]} {b[4]}")
    rows = [(s.name, s.a, s.b, "same" if s.same_key else "changed", s.why) for s in result.steps]
    click.echo("steps:\n" + table(("STEP", "A", "B", "KEY", "WHY"), rows, indent="  "))
    if result.params:
        rows = [(p.step, p.name, value(p.a), value(p.b)) for p in result.params]
        header = ("STEP", "PARAM", "A", "B")
        click.echo("params that differ (mlflow):\n" + table(header, rows, indent="  "))
    if result.metrics:
        delta = result.as_json()["metrics"]
        rows = [
            (m.step, m.name, value(m.a), value(m.b), value(d["delta"]))
            for m, d in zip(result.metrics, delta)
        ]
        header = ("STEP", "METRIC", "A", "B", "B - A")
        click.echo("metrics (mlflow):\n" + table(header, rows, right={2, 3, 4}, indent="  "))
