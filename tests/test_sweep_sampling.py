"""Sweep proposals and early-termination decisions as plain functions (no steps run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from amlrun.engine.sweep_policy import should_stop
from amlrun.engine.sweep_sampling import Proposer
from amlrun.errors import SpecError
from amlrun.pipelines.sweep import Policy, parse_sweep

pytest.importorskip("optuna")

SPACE = {
    "c": {"type": "choice", "values": ["a", "b"]},
    "n": {"type": "randint", "upper": 4},
    "u": {"type": "uniform", "min_value": 1, "max_value": 2},
    "lu": {"type": "loguniform", "min_value": 0, "max_value": 1},
    "q": {"type": "quniform", "min_value": 0, "max_value": 10, "q": 5},
    "g": {"type": "normal", "mu": 10, "sigma": 0.001},
    "lg": {"type": "lognormal", "mu": 0, "sigma": 0.001},
}


def _sweep(sampling, **node):
    node = {
        "search_space": SPACE,
        "sampling_algorithm": sampling,
        "objective": {"primary_metric": "m"},
        "limits": {"max_total_trials": 5},
        **node,
    }
    return parse_sweep(node, Path("p.yml"), "jobs.s")


def _proposals(sweep, values):
    proposer, out = Proposer(sweep), []
    for number, value in enumerate(values):
        out.append(proposer.ask(number))
        proposer.tell(number, value)
    return out


@pytest.mark.parametrize("algorithm", ["random", "bayesian"])
def test_a_seed_gives_the_same_proposals_and_each_follows_its_distribution(algorithm) -> None:
    sweep = _sweep({"type": algorithm, "seed": 3})
    first = _proposals(sweep, [1.0, 2.0, 3.0, 0.5, 4.0])

    assert first == _proposals(sweep, [1.0, 2.0, 3.0, 0.5, 4.0])
    for p in first:
        assert p["c"] in ("a", "b") and p["n"] in range(4) and 1 <= p["u"] <= 2
        assert 1 <= p["lu"] <= 2.7183 and p["q"] in (0, 5, 10) and isinstance(p["q"], int)
        assert p["g"] == pytest.approx(10, abs=0.01) and p["lg"] == pytest.approx(1, abs=0.01)
    assert first != _proposals(_sweep({"type": algorithm, "seed": 4}), [1.0] * 5)


def test_grid_proposes_every_combination_in_declared_order_then_stops() -> None:
    space = {"a": {"type": "choice", "values": [1, 2]}, "b": {"type": "choice", "values": "x y"}}
    with pytest.raises(SpecError, match="non-empty list"):
        _sweep("grid", search_space=space)
    space["b"]["values"] = ["x", "y"]
    proposer = Proposer(_sweep("grid", search_space=space))
    got = [proposer.ask(i) for i in range(5)]
    assert got == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
        None,
    ]


@pytest.mark.parametrize(
    ("node", "field"),
    [
        ({"sampling_algorithm": "grid"}, "jobs.s.search_space"),  # only choice on a grid
        ({"sampling_algorithm": "sobol"}, "jobs.s.sampling_algorithm"),
        ({"objective": {}}, "jobs.s.objective"),
        ({"limits": {"max_total_trials": 0}}, "jobs.s.limits.max_total_trials"),
        ({"early_termination": {"type": "bandit"}}, "jobs.s.early_termination"),
    ],
)
def test_bad_sweep_settings_name_their_field(node, field) -> None:
    with pytest.raises(SpecError) as err:
        _sweep("random", **node)
    assert err.value.field == field


FINISHED = [{0: 10.0, 1: 20.0}, {0: 8.0, 1: 12.0}, {0: 6.0, 1: 9.0}]


def test_bandit_stops_a_trial_beyond_its_slack_of_the_best_finished_trial() -> None:
    policy = Policy("bandit", slack_factor=0.25)
    assert should_stop(policy, True, {0: 8.0, 1: 15.0}, FINISHED) == 1  # 15 < 20 / 1.25
    assert should_stop(policy, True, {0: 8.0, 1: 16.0}, FINISHED) is None
    minimize = Policy("bandit", slack_amount=1.0)
    assert should_stop(minimize, False, {0: 7.5}, FINISHED) == 0  # 7.5 > 6 + 1
    late = Policy("bandit", slack_factor=0.25, delay_evaluation=1)
    assert should_stop(late, True, {0: 1.0, 1: 16.0}, FINISHED) is None  # step 0 not evaluated


def test_median_stopping_and_truncation_selection() -> None:
    median = Policy("median_stopping", delay_evaluation=1)
    # running averages of the finished trials at step 1: 15, 10, 7.5 -> median 10
    assert should_stop(median, True, {0: 6.0, 1: 9.0}, FINISHED) == 1
    assert should_stop(median, True, {0: 6.0, 1: 11.0}, FINISHED) is None
    truncation = Policy("truncation_selection", truncation_percentage=50)
    assert should_stop(truncation, True, {0: 7.0}, FINISHED) == 0  # among the worst 2 of 4
    assert should_stop(truncation, True, {0: 9.0}, FINISHED) is None
