"""mlflow metrics on the docker and dask backends, through the CLI.

On dask the script logs through the real mlflow (workers run this interpreter) and the
worker brings the file store back through the store. The offline docker test image has no
mlflow, so there the script writes the file store's format itself: what is tested is that
the container gets a tracking URI at a writable mount and that its files come back.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.helpers import amlrun, run_json, statuses

pytestmark = pytest.mark.slow

COMPONENT = """
    type: command
    name: log
    outputs:
      o: {type: uri_folder}
    code: ./src
    command: python log.py ${{outputs.o}}
"""
PIPELINE = """
    type: pipeline
    jobs:
      log:
        component: ./log/log.yml
"""
REAL_MLFLOW = """
    import sys, pathlib
    import mlflow
    mlflow.log_param("where", mlflow.get_tracking_uri())
    mlflow.log_metric("acc", 0.5, step=0)
    mlflow.log_metric("acc", 0.75, step=1)
    pathlib.Path(sys.argv[1], "done.txt").write_text("done")
"""
FILE_STORE_BY_HAND = """
    import os, sys, pathlib, urllib.parse
    uri = os.environ["MLFLOW_TRACKING_URI"]
    experiment = pathlib.Path(urllib.parse.urlparse(uri).path) / "0"
    run = experiment / "r1"
    (run / "metrics").mkdir(parents=True)
    (run / "params").mkdir()
    (experiment / "meta.yaml").write_text("experiment_id: '0'\\nname: Default\\n")
    (run / "meta.yaml").write_text("run_id: r1\\nstart_time: 1\\nlifecycle_stage: active\\n")
    (run / "metrics" / "acc").write_text("1 0.5 0\\n2 0.75 1\\n")
    (run / "params" / "where").write_text(uri)
    pathlib.Path(sys.argv[1], "done.txt").write_text("done")
"""


def _workspace(root: Path, script: str, environment: str = "") -> Path:
    files = {
        "log/log.yml": COMPONENT + (f"    environment: {environment}\n" if environment else ""),
        "log/src/log.py": script,
        "pipeline.yml": PIPELINE,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    (root / ".git").mkdir()
    return root


def _logged(ws: Path, run_id: str) -> dict:
    proc = amlrun("runs", "show", run_id, "--json", cwd=ws, check=True)
    return next(s for s in json.loads(proc.stdout)["steps"] if s["name"] == "log")


def test_metrics_logged_on_dask_come_back_and_are_reused_locally(
    dask_scheduler: str, tmp_path: Path
) -> None:
    pytest.importorskip("mlflow")
    ws = _workspace(tmp_path / "ws", REAL_MLFLOW)
    dask = ["--backend", "dask", "--scheduler", dask_scheduler]

    first = run_json("pipeline.yml", *dask, cwd=ws)

    assert statuses(first) == {"log": "ran"}, first
    step = _logged(ws, first["run_id"])
    assert step["metrics"]["acc"]["last"] == 0.75 and step["metrics"]["acc"]["count"] == 2
    where = step["params"]["where"]
    assert where.startswith("file://") and ".amlrun" not in where  # a folder of the worker's
    assert (ws / ".amlrun/mlruns" / first["run_id"] / "log/0").is_dir()  # brought back here
    again = run_json("pipeline.yml", cwd=ws)  # the local backend reuses dask's result
    assert statuses(again) == {"log": "reused"}, again
    assert _logged(ws, again["run_id"])["produced_by"] == first["run_id"]


def test_a_container_logs_to_a_mounted_file_store_that_comes_back(
    docker_host: str, tmp_path: Path
) -> None:
    from tests.fixtures.docker_engine import TEST_IMAGE

    ws = _workspace(tmp_path / "ws", FILE_STORE_BY_HAND, f"{{image: {TEST_IMAGE}}}")
    env = {"DOCKER_HOST": docker_host}

    first = run_json("pipeline.yml", "--backend", "docker", cwd=ws, env=env)

    assert statuses(first) == {"log": "ran"}, first
    step = _logged(ws, first["run_id"])
    assert step["params"] == {"where": "file:///amlrun/tracking/mlruns"}  # the container's path
    assert step["metrics"]["acc"]["last"] == 0.75
    store = ws / ".amlrun/mlruns" / first["run_id"] / "log"
    assert (store / "0/r1/metrics/acc").read_text() == "1 0.5 0\n2 0.75 1\n"
    assert (store / "0/r1").stat().st_uid == (tmp_path.stat().st_uid)  # written as the user
    again = run_json("pipeline.yml", "--backend", "docker", cwd=ws, env=env)
    assert statuses(again) == {"log": "reused"}, again
