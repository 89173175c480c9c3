"""The corpus's iris parallel pipeline (examples/iris-parallel) end to end: its output equals
calling the entry script's init() and run() by hand over the same mini-batches."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_json, statuses

pytest.importorskip("pandas")
pytest.importorskip("sklearn")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "iris-parallel"


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("iris") / "iris-parallel"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".amlrun", "__pycache__"))
    subprocess.run([sys.executable, "make_model.py"], cwd=root, check=True, capture_output=True)
    return root


def _by_hand(root: Path) -> str:
    """init() once, run() per mini-batch of the MLTable (10kb), rows as the driver writes them."""
    from amlrun.parallel.batching import parse_size
    from amlrun.parallel.tabular import table_batches

    spec = importlib.util.spec_from_file_location(
        "iris_by_hand", root / "script/iris_prediction.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    argv, sys.argv = sys.argv, ["iris_prediction.py", "--model", str(root / "iris-model")]
    try:
        script.init()
    finally:
        sys.argv = argv
    size = parse_size("10kb", tabular=True, field="mini_batch_size")
    frames = [frame for frame, _ in table_batches(root / "neural-iris-mltable", size)]
    assert len(frames) > 1
    return "".join(script.run(f).to_csv(sep=" ", header=False, index=False) for f in frames)


def test_the_iris_pipeline_predicts_what_its_script_predicts_by_hand(iris: Path) -> None:
    out = "batch_prediction.outputs.job_output_file=predictions.txt"
    result = run_json("pipeline.yml", "-o", out, cwd=iris)
    assert statuses(result) == {"batch_prediction": "ran"}
    got = (iris / "predictions.txt").read_text()
    assert got == _by_hand(iris)
    rows = got.splitlines()
    assert len(rows) == 74 and rows[0] == "4.9 3.0 1.4 0.2 setosa"
    assert {r.split()[-1] for r in rows} <= {"setosa", "versicolor", "virginica"}
    again = run_json("pipeline.yml", cwd=iris)
    assert statuses(again) == {"batch_prediction": "reused"}


def test_editing_one_row_reruns_only_its_mini_batch(iris: Path) -> None:
    run_json("pipeline.yml", cwd=iris)
    csv = iris / "neural-iris-mltable" / "iris.csv"
    lines = csv.read_text().splitlines(keepends=True)
    lines[-1] = "6.0" + lines[-1][lines[-1].index(",") :]  # the last flower's sepal length
    csv.write_text("".join(lines))
    result = run_json("pipeline.yml", cwd=iris)
    reason = result["steps"][0]["reason"]
    assert "input input_data changed" in reason and "mini-batches (" in reason, reason
    assert ", 1 ran)" in reason, reason
