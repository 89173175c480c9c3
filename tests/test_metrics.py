"""Metrics and params that scripts log through mlflow, through the CLI on the local backend.

The train step of tests/pipeline_ws.py is replaced by one that logs through the real mlflow
(a param, a metric with a history, and a metric that differs on every run).
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from amlrun.runs.metrics import read_file_store
from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace

mlflow = pytest.importorskip("mlflow")

TRAIN = """
    import argparse, pathlib, time
    import mlflow
    p = argparse.ArgumentParser()
    p.add_argument("--data"); p.add_argument("--epochs", type=int); p.add_argument("--model")
    a = p.parse_args()
    rows = pathlib.Path(a.data, "clean.csv").read_text().split()
    total = sum(int(l.split(",")[1]) for l in rows)
    with mlflow.start_run():
        mlflow.log_param("epochs", a.epochs)
        for e in range(a.epochs + 2):
            mlflow.log_metric("loss", 1 / (e + 1), step=e)
        mlflow.log_metric("total", total * a.epochs)
        mlflow.log_metric("clock", time.time())  # differs on every run: never in the key
    pathlib.Path(a.model, "model.txt").write_text(f"sum={total * a.epochs}\\n")
"""


def _workspace(root: Path) -> Path:
    pipeline = make_workspace(root)
    (root / "train/src/train.py").write_text(textwrap.dedent(TRAIN).lstrip())
    return pipeline


def _show(run_id: str, ws: Path) -> dict:
    proc = amlrun("runs", "show", run_id, "--json", cwd=ws, check=True)
    return {s["name"]: s for s in json.loads(proc.stdout)["steps"]}


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return _workspace(tmp_path / "ws").parent


def test_metrics_and_params_logged_through_mlflow_appear_in_runs_show(ws: Path) -> None:
    first = run_json("pipeline.yml", cwd=ws)
    assert set(statuses(first).values()) == {"ran"}, first

    train = _show(first["run_id"], ws)["train"]
    assert train["params"] == {"epochs": "1"}
    assert train["metrics"]["loss"]["last"] == pytest.approx(1 / 3)
    assert train["metrics"]["loss"]["history"] == [[0, 1.0], [1, 0.5], [2, pytest.approx(1 / 3)]]
    assert train["metrics"]["total"]["last"] == 12.0
    assert train["produced_by"] == first["run_id"]
    assert "metrics" not in _show(first["run_id"], ws)["prep"]  # it logged nothing
    text = amlrun("runs", "show", first["run_id"], cwd=ws, check=True).stdout
    assert "metrics (mlflow):" in text and "loss" in text and "epochs" in text
    store = ws / ".amlrun/mlruns" / first["run_id"] / "train"  # mlflow ui can open it
    assert read_file_store(store).params == {"epochs": "1"}


def test_a_reused_step_shows_the_metrics_of_the_run_that_produced_it(ws: Path) -> None:
    first = run_json("pipeline.yml", cwd=ws)
    second = run_json("pipeline.yml", cwd=ws)  # another tracking folder, other clock values

    assert set(statuses(second).values()) == {"reused"}, second
    before, after = _show(first["run_id"], ws)["train"], _show(second["run_id"], ws)["train"]
    assert after["produced_by"] == first["run_id"]
    assert after["metrics"] == before["metrics"]
    text = amlrun("runs", "show", second["run_id"], cwd=ws, check=True).stdout
    assert first["run_id"] in text.split("metrics (mlflow):")[1]


def test_a_fresh_clone_sharing_the_store_shows_the_producing_runs_metrics(
    ws: Path, tmp_path: Path
) -> None:
    first = run_json("pipeline.yml", cwd=ws)
    clone = _workspace(tmp_path / "clone").parent
    shared = str(ws / ".amlrun/cache")

    again = run_json("pipeline.yml", "--store", shared, cwd=clone)

    assert set(statuses(again).values()) == {"reused"}, again
    train = _show(again["run_id"], clone)["train"]
    assert train["produced_by"] == first["run_id"]  # a run this clone has never recorded
    assert train["params"] == {"epochs": "1"}


def test_runs_compare_names_the_rerun_steps_why_and_the_metric_differences(ws: Path) -> None:
    a = run_json("pipeline.yml", cwd=ws)["run_id"]
    b = run_json("pipeline.yml", "--set", "epochs=2", cwd=ws)["run_id"]

    got = json.loads(amlrun("runs", "compare", a, b, "--json", cwd=ws, check=True).stdout)

    steps = {s["name"]: s for s in got["steps"]}
    assert steps["prep"] == {"name": "prep", "a": "ran", "b": "reused", "same_key": True, "why": ""}
    assert steps["train"]["b"] == "ran" and steps["train"]["why"] == "parameter epochs: 1 -> 2"
    assert steps["report"]["why"] == "input model changed"
    assert got["params"] == [{"step": "train", "name": "epochs", "a": "1", "b": "2"}]
    total = next(m for m in got["metrics"] if m["name"] == "total")
    assert (total["a"], total["b"], total["delta"]) == (12.0, 24.0, 12.0)
    text = amlrun("runs", "compare", a[-6:], b[-6:], cwd=ws, check=True).stdout
    assert "parameter epochs: 1 -> 2" in text and "params that differ" in text


def test_runs_are_named_back_from_the_newest_without_knowing_their_ids(ws: Path) -> None:
    a = run_json("pipeline.yml", cwd=ws)["run_id"]
    b = run_json("pipeline.yml", "--set", "epochs=2", cwd=ws)["run_id"]

    got = json.loads(amlrun("runs", "compare", "last~1", "last", "--json", cwd=ws).stdout)

    assert (got["a"], got["b"]) == (a, b)
    assert amlrun("runs", "show", "last~0", cwd=ws, check=True).stdout.startswith(f"run {b}")
    gone = amlrun("runs", "show", "last~2", cwd=ws)
    assert gone.returncode == 2 and "no run 'last~2'" in gone.stderr


def test_a_tracking_uri_the_user_set_is_left_alone(ws: Path, tmp_path: Path) -> None:
    theirs = tmp_path / "their-mlruns"
    env = {"MLFLOW_TRACKING_URI": theirs.as_uri(), "MLFLOW_ALLOW_FILE_STORE": "true"}

    result = run_json("pipeline.yml", cwd=ws, env=env)

    assert set(statuses(result).values()) == {"ran"}, result
    assert read_file_store(theirs).params == {"epochs": "1"}
    assert not (ws / ".amlrun/mlruns").exists()
    assert "metrics" not in _show(result["run_id"], ws)["train"]


def test_a_malformed_tracking_entry_in_the_store_shows_no_metrics(ws: Path) -> None:
    first = run_json("pipeline.yml", cwd=ws)
    key = next(s["key"] for s in first["steps"] if s["name"] == "train")
    path = ws / ".amlrun/cache/steps" / f"{key}.json"
    manifest = json.loads(path.read_text())
    manifest["tracking"] = {"metrics": {"loss": {"last": "much"}}, "params": 3}
    os.chmod(path, 0o644)
    path.write_text(json.dumps(manifest))

    again = run_json("pipeline.yml", cwd=ws)

    assert statuses(again)["train"] == "reused", again
    assert "metrics" not in _show(again["run_id"], ws)["train"]


def test_the_file_store_reads_as_mlflow_itself_reads_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = (tmp_path / "mlruns").as_uri()
    client = mlflow.MlflowClient(tracking_uri=uri)
    run = client.create_run("0")
    client.log_param(run.info.run_id, "nested/name", "x y")
    for step, value in [(0, 3.0), (2, 1.0), (1, 2.0)]:
        client.log_metric(run.info.run_id, "val/loss", value, step=step)
    client.set_terminated(run.info.run_id)

    got = read_file_store(tmp_path / "mlruns")

    theirs = client.get_run(run.info.run_id).data
    assert dict(got.params) == theirs.params == {"nested/name": "x y"}
    assert got.metrics["val/loss"].last == theirs.metrics["val/loss"] == 1.0  # the highest step
    history = client.get_metric_history(run.info.run_id, "val/loss")
    assert list(got.metrics["val/loss"].history) == [(m.step, m.value) for m in history]
    assert got.mlflow_runs == (run.info.run_id,)
