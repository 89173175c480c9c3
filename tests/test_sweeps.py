"""Local sweeps (v2 ``type: sweep`` nodes) through the CLI: trials are cached steps.

The workspace (tests/sweep_ws.py) sweeps a train component whose score is best for the
deepest tree and lr 0.3; its report step reads the sweep's (the best trial's) model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import amlrun, run_json, statuses
from tests.sweep_ws import make_workspace

pytest.importorskip("mlflow")


def _trials(result: dict) -> dict[str, str]:
    return {n: s for n, s in statuses(result).items() if "/trial_" in n}


def _summary(ws: Path, run_id: str) -> list[dict]:
    return json.loads((ws / ".amlrun/sweeps" / run_id / "sweep.json").read_text())


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ws").parent


def test_a_sweep_of_6_trials_runs_and_its_best_trials_outputs_flow_downstream(ws: Path) -> None:
    proc = amlrun("run", "pipeline.yml", "--output", "best=out", cwd=ws)

    assert proc.returncode == 0, proc.stderr
    assert (ws / "out/best.txt").read_text() == "lr=0.3 depth=2 score=12.0\n"
    assert "sweep sweep:" in proc.stderr and "lr=0.3 depth=2" in proc.stderr  # the table
    run_id = amlrun("runs", "list", cwd=ws, check=True).stdout.split()[0]
    summary = _summary(ws, run_id)
    assert [t["params"] for t in summary] == [
        {"lr": lr, "depth": d} for lr in (0.1, 0.3, 0.5) for d in (1, 2)
    ]
    assert {t["status"] for t in summary} == {"ran"}
    shown = json.loads(amlrun("runs", "show", run_id, "--json", cwd=ws, check=True).stdout)
    steps = {s["name"]: s for s in shown["steps"]}
    assert steps["sweep/trial_3"]["metrics"]["score"]["last"] == 12.0
    assert "best sweep/trial_3: score=12" in steps["sweep"]["reason"]


def test_a_second_run_reuses_all_6_trials(ws: Path) -> None:
    first = run_json("pipeline.yml", cwd=ws)
    assert set(_trials(first).values()) == {"ran"} and len(_trials(first)) == 6, first

    second = run_json("pipeline.yml", cwd=ws)

    assert set(statuses(second).values()) == {"reused"}, second
    assert len(_trials(second)) == 6
    forced = run_json("pipeline.yml", "--force", "sweep", cwd=ws)  # --force reaches the trials
    assert set(_trials(forced).values()) == {"ran"}, forced


def test_widening_the_search_space_runs_only_the_new_trials(ws: Path) -> None:
    run_json("pipeline.yml", cwd=ws)
    _edit(ws / "pipeline.yml", "values: [1, 2]}", "values: [1, 2, 3]}")

    wider = run_json("pipeline.yml", cwd=ws)

    trials = _trials(wider)
    assert len(trials) == 9
    ran = sorted(n for n, s in trials.items() if s == "ran")
    assert ran == ["sweep/trial_2", "sweep/trial_5", "sweep/trial_8"], wider  # depth 3
    assert statuses(wider)["report"] == "ran"  # the best model changed


RANDOM = "\n    ".join(  # the sweep node's settings, as indented in the pipeline file
    [
        "sampling_algorithm: {type: random, seed: 7}",
        "search_space:",
        "  lr: {type: uniform, min_value: 0.1, max_value: 0.9}",
        "  depth: {type: randint, upper: 3}",
        "objective: {primary_metric: score, goal: maximize}",
        "limits: {max_total_trials: 4, max_concurrent_trials: 2}",
    ]
)


def _sampled(ws: Path, algorithm: str) -> None:
    text = (ws / "pipeline.yml").read_text()
    start = text.index("sampling_algorithm: grid")
    end = text.index("limits: {max_concurrent_trials: 2}") + len(
        "limits: {max_concurrent_trials: 2}"
    )
    (ws / "pipeline.yml").write_text(
        text[:start] + RANDOM.replace("random", algorithm) + text[end:]
    )


@pytest.mark.parametrize("algorithm", ["random", "bayesian"])
def test_seeded_sampling_proposes_the_same_trials_so_a_rerun_and_a_clone_reuse_them(
    algorithm: str, ws: Path, tmp_path: Path
) -> None:
    pytest.importorskip("optuna")
    _sampled(ws, algorithm)
    first = run_json("pipeline.yml", cwd=ws)
    assert list(_trials(first).values()) == ["ran"] * 4, first

    again = run_json("pipeline.yml", cwd=ws)
    clone = make_workspace(tmp_path / "clone").parent
    _sampled(clone, algorithm)
    in_clone = run_json("pipeline.yml", "--store", str(ws / ".amlrun/cache"), cwd=clone)

    assert set(statuses(again).values()) == {"reused"}, again
    assert set(statuses(in_clone).values()) == {"reused"}, in_clone
    params = [t["params"] for t in _summary(ws, first["run_id"])]
    assert params == [t["params"] for t in _summary(clone, in_clone["run_id"])]
    assert len({t["lr"] for t in params}) == 4 and all(0.1 <= t["lr"] <= 0.9 for t in params)


SLOW_WHEN_SHALLOW = """
import sys, pathlib, time
import mlflow
data, lr, depth, model = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
for epoch in range(4):
    mlflow.log_metric("score", depth * (epoch + 1), step=epoch)
    time.sleep(0 if depth == 2 else 1.5)  # the shallow tree is slow and behind
pathlib.Path(model, "model.txt").write_text(f"lr={lr} depth={depth}\\n")
"""


def test_the_bandit_policy_stops_a_trial_that_falls_behind(ws: Path) -> None:
    (ws / "train/src/train.py").write_text(SLOW_WHEN_SHALLOW)
    _edit(ws / "pipeline.yml", "values: [0.1, 0.3, 0.5]}", "values: [0.3]}")
    _edit(ws / "pipeline.yml", "values: [1, 2]}", "values: [2, 1]}")
    _edit(
        ws / "pipeline.yml",
        "limits: {max_concurrent_trials: 2}",
        "limits: {max_concurrent_trials: 1}\n"
        "    early_termination: {type: bandit, slack_factor: 0.2, evaluation_interval: 1}",
    )

    result = run_json("pipeline.yml", "--output", "best=out", cwd=ws)

    assert _trials(result) == {"sweep/trial_0": "ran", "sweep/trial_1": "stopped"}, result
    reason = next(s["reason"] for s in result["steps"] if s["name"] == "sweep/trial_1")
    assert reason.startswith("stopped early by the bandit policy at step 0"), reason
    assert (ws / "out/best.txt").read_text() == "lr=0.3 depth=2\n"


def test_a_bad_search_space_is_an_error_naming_its_field(ws: Path) -> None:
    _edit(ws / "pipeline.yml", "{type: choice, values: [1, 2]}", "{type: gaussian}")

    proc = amlrun("run", "pipeline.yml", cwd=ws)

    assert proc.returncode == 2, proc.stderr
    assert "jobs.sweep.search_space.depth" in proc.stderr and "Traceback" not in proc.stderr


def test_trials_that_never_log_the_primary_metric_fail_the_sweep_saying_so(ws: Path) -> None:
    _edit(ws / "pipeline.yml", "primary_metric: score", "primary_metric: accuracy")

    result = run_json("pipeline.yml", cwd=ws)

    sweep = next(s for s in result["steps"] if s["name"] == "sweep")
    assert sweep["status"] == "failed"
    assert sweep["reason"] == "no trial logged accuracy (6 trials: 6 ran)"
    assert statuses(result)["report"] == "skipped"


def test_an_exported_sweep_keeps_its_settings_and_reuses_every_trial(ws: Path) -> None:
    run_json("pipeline.yml", cwd=ws)
    amlrun("pipeline", "export", "pipeline.yml", "--format", "yaml", "-o", "again.yml", cwd=ws)

    again = run_json("again.yml", cwd=ws)

    assert len(_trials(again)) == 6 and set(statuses(again).values()) == {"reused"}, again
    python = amlrun("pipeline", "export", "pipeline.yml", "--format", "python", cwd=ws)
    assert "step 'sweep' is a sweep" in python.stderr  # the DSL cannot say it: named, not lost


def test_an_input_bound_to_a_search_space_expression_gets_each_trials_sample(ws: Path) -> None:
    run_json("pipeline.yml", cwd=ws)
    _edit(ws / "pipeline.yml", "lr: {type: choice", "rate: {type: choice")
    _edit(
        ws / "pipeline.yml",
        "outputs.clean}}\n",
        "outputs.clean}}\n      lr: ${{search_space.rate}}\n",
    )

    renamed = run_json("pipeline.yml", cwd=ws)

    assert set(statuses(renamed).values()) == {"reused"}, renamed  # the same values: same keys
    _edit(ws / "pipeline.yml", "search_space.rate}}", "search_space.rat}}")
    proc = amlrun("run", "pipeline.yml", cwd=ws)
    assert proc.returncode == 2 and "jobs.sweep.inputs.lr" in proc.stderr, proc.stderr
    assert "search space 'rat', which is not defined" in proc.stderr


def test_trial_timeout_kills_a_slow_trial_and_max_total_trials_caps_a_grid(ws: Path) -> None:
    (ws / "train/src/train.py").write_text(SLOW_WHEN_SHALLOW.replace("1.5", "60"))
    _edit(
        ws / "pipeline.yml",
        "limits: {max_concurrent_trials: 2}",
        "limits: {max_concurrent_trials: 2, max_total_trials: 4, trial_timeout: 15}",
    )

    result = run_json("pipeline.yml", "--output", "best=out", cwd=ws)

    trials = _trials(result)
    assert trials == {
        "sweep/trial_0": "failed",  # depth 1 sleeps 60 s per epoch: killed after 15 s
        "sweep/trial_1": "ran",
        "sweep/trial_2": "failed",
        "sweep/trial_3": "ran",
    }, result
    assert (ws / "out/best.txt").read_text().endswith("depth=2\n")  # the sweep still has a best
