"""How ``amlrun runs show`` prints what each step logged through mlflow."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from amlrun.runs.metrics import StepMetrics


def value(v: Any) -> str:
    """A metric or param as a short cell: numbers with up to 6 significant digits."""
    if v is None:
        return "-"
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def metric_rows(logged: Mapping[str, StepMetrics], run_id: str) -> list[tuple[str, ...]]:
    """(step, metric, last value, at step, points, produced by) for every logged metric."""
    return [
        (step, name, value(m.last), str(m.step), str(m.count), _producer(s, run_id))
        for step, s in logged.items()
        for name, m in sorted(s.metrics.items())
    ]


def param_rows(logged: Mapping[str, StepMetrics], run_id: str) -> list[tuple[str, ...]]:
    return [
        (step, name, v, _producer(s, run_id))
        for step, s in logged.items()
        for name, v in sorted(s.params.items())
    ]


def _producer(s: StepMetrics, run_id: str) -> str:
    """ "this run", or the run whose result this one reused."""
    return "this run" if s.produced_by in ("", run_id) else s.produced_by
