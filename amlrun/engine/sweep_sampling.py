"""Proposing a sweep's trials: grid in declared order, random and bayesian through optuna.

Reuse needs the same trials to be proposed again: grid is a product in the order the
search space lists its values; random and bayesian (optuna's seeded RandomSampler and
TPESampler) are asked for a batch of trials, the batch runs, and its results are told in
trial order, so the sequence depends only on the seed and the results, never on which
trial happened to finish first.

Optuna samples each numeric dimension on an internal scale that Azure ML's distribution is
a function of: loguniform is ``exp(uniform(min, max))``, normal is the inverse normal CDF of
``uniform(0, 1)``, the q-variants round to multiples of ``q``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from statistics import NormalDist
from typing import Any

from amlrun.pipelines.sweep import Dimension, Sweep

_EDGE = 1e-12  # keeps the inverse normal CDF finite


class Proposer:
    """Hands out trial parameters; ``tell`` gives a finished trial's objective value."""

    def __init__(self, sweep: Sweep) -> None:
        self.sweep = sweep
        self._grid: Iterator[tuple] | None = None
        self._study: Any = None
        self._asked: dict[int, Any] = {}
        if sweep.sampling == "grid":
            values = [d.arg("values") for d in sweep.search_space]
            self._grid = itertools.product(*values)
        else:
            self._study = _study(sweep)

    def ask(self, number: int) -> dict[str, Any] | None:
        """Parameters of trial ``number`` (counting from 0), or None when the grid is done."""
        if self._grid is not None:
            combo = next(self._grid, None)
            names = [d.name for d in self.sweep.search_space]
            return None if combo is None else dict(zip(names, combo))
        dims = self.sweep.search_space
        trial = self._study.ask({d.name: _distribution(d) for d in dims})
        self._asked[number] = trial
        return {d.name: _value(d, trial.params[d.name]) for d in dims}

    def tell(self, number: int, value: float | None) -> None:
        """The objective of trial ``number``; None: it failed or was stopped early."""
        trial = self._asked.pop(number, None)
        if trial is None:
            return
        import optuna

        if value is None or math.isnan(value):
            self._study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            self._study.tell(trial, value)


def _study(sweep: Sweep) -> Any:
    import optuna  # present: loading the sweep checked it

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if sweep.sampling == "bayesian":
        sampler = optuna.samplers.TPESampler(seed=sweep.seed)
    else:
        sampler = optuna.samplers.RandomSampler(seed=sweep.seed)
    return optuna.create_study(direction=sweep.goal, sampler=sampler)


def _distribution(d: Dimension) -> Any:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if d.type == "choice":
        return CategoricalDistribution(d.arg("values"))
    if d.type == "randint":
        return IntDistribution(0, int(d.arg("upper")) - 1)
    if "mu" in dict(d.args):
        return FloatDistribution(0.0, 1.0)  # a quantile of the normal distribution
    return FloatDistribution(float(d.arg("min_value")), float(d.arg("max_value")))


def _value(d: Dimension, raw: Any) -> Any:
    """The parameter value Azure ML's distribution gives for optuna's internal sample."""
    if d.type in ("choice", "randint"):
        return raw
    x = float(raw)
    if "mu" in dict(d.args):
        x = NormalDist(float(d.arg("mu")), float(d.arg("sigma"))).inv_cdf(
            min(max(x, _EDGE), 1 - _EDGE)
        )
    if "log" in d.type:
        x = math.exp(x)
    if d.type.startswith("q"):
        q = d.arg("q")
        x = round(x / q) * q
        return int(x) if isinstance(q, int) else x
    return x
