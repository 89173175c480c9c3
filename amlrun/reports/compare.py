"""Two runs side by side: which steps reran and why, and what their scripts logged.

The per-step reason is the explanation ``amlrun status`` gives (``explain_change``), applied
to the key components both runs recorded; metrics and params are those each run shows (a
reused step shows what its producing run logged, see :mod:`amlrun.runs.metrics`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amlrun.engine.key import KeyParts, explain_change
from amlrun.runs.db import RunDB
from amlrun.runs.metrics import StepMetrics, step_metrics


@dataclass(frozen=True)
class StepDiff:
    name: str
    a: str  # status in run A ("-": not in the run)
    b: str
    same_key: bool
    why: str  # why B's key differs from A's ("" when it does not)


@dataclass(frozen=True)
class ValueDiff:
    step: str
    name: str
    a: Any  # None: not logged in that run
    b: Any


@dataclass(frozen=True)
class Comparison:
    a: str  # run ids
    b: str
    steps: tuple[StepDiff, ...]
    params: tuple[ValueDiff, ...]  # logged params that differ
    metrics: tuple[ValueDiff, ...]  # every logged metric's last value in each run

    def as_json(self) -> dict[str, Any]:
        def rows(items: tuple) -> list[dict]:
            return [vars(i) for i in items]

        return {
            "a": self.a,
            "b": self.b,
            "steps": rows(self.steps),
            "params": rows(self.params),
            "metrics": [{**vars(m), "delta": _delta(m)} for m in self.metrics],
        }


def _delta(m: ValueDiff) -> float | None:
    both = isinstance(m.a, float) and isinstance(m.b, float)
    return m.b - m.a if both else None


def compare_runs(db: RunDB, a: str, b: str) -> Comparison:
    """Run ``b`` against run ``a`` (full ids, as :meth:`RunDB.run` returns them)."""
    steps_a, steps_b = db.step_records(a), db.step_records(b)
    names = [*steps_a, *(n for n in steps_b if n not in steps_a)]
    diffs = tuple(_step_diff(db, n, steps_a.get(n), steps_b.get(n)) for n in names)
    logged_a, logged_b = step_metrics(db, a), step_metrics(db, b)
    params, metrics = [], []
    for name in names:
        la, lb = logged_a.get(name, StepMetrics()), logged_b.get(name, StepMetrics())
        for p in sorted(set(la.params) | set(lb.params)):
            if la.params.get(p) != lb.params.get(p):
                params.append(ValueDiff(name, p, la.params.get(p), lb.params.get(p)))
        for m in sorted(set(la.metrics) | set(lb.metrics)):
            ma, mb = la.metrics.get(m), lb.metrics.get(m)
            metrics.append(ValueDiff(name, m, ma and ma.last, mb and mb.last))
    return Comparison(a, b, diffs, tuple(params), tuple(metrics))


def _step_diff(db: RunDB, name: str, a: tuple | None, b: tuple | None) -> StepDiff:
    status_a, status_b = (a or ("-",))[0], (b or ("-",))[0]
    if a is None or b is None:
        return StepDiff(name, status_a, status_b, False, "only in run " + ("B" if a else "A"))
    same = a[1] is not None and a[1] == b[1]
    return StepDiff(name, status_a, status_b, same, "" if same else _why(db, a[2], b[2]))


def _why(db: RunDB, old: dict | None, new: dict | None) -> str:
    """``amlrun status``'s explanation of the change from ``old`` to ``new`` components."""
    if new is None:
        return "no key recorded in run B"
    try:
        parts = KeyParts(**new)
    except TypeError:  # recorded by an amlrun whose keys had another shape
        return "the key format changed"
    files = (db.tree_files(old.get("snapshot", "")) if old else {}, db.tree_files(parts.snapshot))
    return explain_change(old, parts, files)
