"""Environments and data assets in the registry, referenced as ``azureml:NAME:VERSION``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    make_workspace(tmp_path)
    return tmp_path


def _plan(ws: Path, pipeline: str) -> dict[str, tuple[str, str]]:
    proc = amlrun("run", pipeline, "--dry-run", "--json", cwd=ws, check=True)
    return {s["name"]: (s["status"], s["reason"]) for s in json.loads(proc.stdout)["steps"]}


def test_a_registered_environment_replaces_the_azureml_reference_in_the_key(ws: Path) -> None:
    assert set(statuses(run_json("pipeline.yml", cwd=ws)).values()) == {"ran"}
    (ws / "req.txt").write_text("# pinned\nnumpy==1.26.4\n")
    ref = "AzureML-sklearn-1.0:1"  # what prep.yml's environment names
    proc = amlrun("env", "register", ref, "--pip-requirements", "req.txt", cwd=ws, check=True)
    assert proc.stdout.startswith(f"registered environment {ref}")
    again = amlrun("env", "register", ref, "--pip-requirements", "req.txt", cwd=ws, check=True)
    assert again.stdout.startswith(f"unchanged environment {ref}")
    plan = _plan(ws, "pipeline.yml")
    assert plan["prep"] == ("would-run", "environment changed")
    assert plan["side"][0] == "reused"
    (ws / "req.txt").write_text("numpy==2.0.0\n")
    proc = amlrun("env", "register", ref, "--pip-requirements", "req.txt", cwd=ws)
    assert proc.returncode == 2 and "different content" in proc.stderr


def test_env_register_needs_exactly_one_definition(ws: Path) -> None:
    proc = amlrun("env", "register", "e:1", cwd=ws)
    assert proc.returncode == 2
    assert "give one of --conda-file, --pip-requirements, --image or --build" in proc.stderr
    proc = amlrun("env", "register", "e", "--image", "python:3.11", cwd=ws)
    assert proc.returncode == 2 and "is not NAME:VERSION" in proc.stderr


def test_a_registered_data_version_is_immutable_content(ws: Path) -> None:
    amlrun("data", "register", "rows:1", "data", cwd=ws, check=True)
    text = (ws / "pipeline.yml").read_text().replace("path: ./data", "path: azureml:rows:1")
    (ws / "reg.yml").write_text(text)
    assert set(statuses(run_json("reg.yml", cwd=ws)).values()) == {"ran"}
    (ws / "data/rows.csv").write_text("a,100\n")  # the registered version does not change
    assert set(statuses(run_json("reg.yml", cwd=ws)).values()) == {"reused"}
    amlrun("data", "register", "rows:2", "data", cwd=ws, check=True)
    (ws / "reg.yml").write_text(text.replace("azureml:rows:1", "azureml:rows@latest"))
    after = statuses(run_json("reg.yml", cwd=ws))
    assert after == {"prep": "ran", "train": "ran", "report": "ran", "side": "reused"}


def test_an_unregistered_data_asset_still_says_it_is_cloud_only(ws: Path) -> None:
    text = (ws / "pipeline.yml").read_text().replace("path: ./data", "path: azureml:rows:1")
    (ws / "reg.yml").write_text(text)
    proc = amlrun("run", "reg.yml", cwd=ws)
    assert proc.returncode == 2
    assert "azureml:rows:1 is an Azure ML asset" in proc.stderr


V1_PIPELINE = """\
pipeline:
  data_references:
    raw: {dataset_name: rows}
  steps:
    Count:
      script_name: count.py
      source_directory: steps
      arguments: [input:i, output:o]
      inputs: {i: {source: raw}}
      outputs: {o: {destination: counted}}
"""
COUNT = (
    "import sys, pathlib\n"
    "n = len(list(pathlib.Path(sys.argv[1]).iterdir()))\n"
    "pathlib.Path(sys.argv[2], 'n').write_text(str(n))\n"
)


def _v1(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "steps").mkdir()
    (tmp_path / "steps/count.py").write_text(COUNT)
    (tmp_path / "rows").mkdir()
    (tmp_path / "rows/a.csv").write_text("a,1\n")
    (tmp_path / "pipeline.yml").write_text(V1_PIPELINE)
    return tmp_path


def test_a_v1_dataset_name_resolves_to_a_mapping_or_a_registered_asset(tmp_path: Path) -> None:
    ws = _v1(tmp_path)
    proc = amlrun("run", "pipeline.yml", cwd=ws)
    assert proc.returncode == 2 and "amlrun data register" in proc.stderr
    (ws / "pyproject.toml").write_text('[tool.amlrun.datasets]\nrows = "rows"\n')
    assert statuses(run_json("pipeline.yml", cwd=ws)) == {"Count": "ran"}
    amlrun("data", "register", "rows:1", "rows", cwd=ws, check=True)  # the registry comes first
    (ws / "rows/b.csv").write_text("b,2\n")
    assert statuses(run_json("pipeline.yml", cwd=ws)) == {"Count": "reused"}


def test_an_environments_mapping_gives_a_curated_name_a_local_definition(ws: Path) -> None:
    assert set(statuses(run_json("pipeline.yml", cwd=ws)).values()) == {"ran"}
    (ws / "pyproject.toml").write_text(
        '[tool.amlrun.environments]\n"AzureML-sklearn-1.0" = {pip = ["scikit-learn==1.5.2"]}\n'
    )
    plan = _plan(ws, "pipeline.yml")
    assert plan["prep"] == ("would-run", "environment changed")
    assert plan["side"][0] == "reused"
    (ws / "pyproject.toml").write_text(
        '[tool.amlrun.environments]\n"AzureML-sklearn-1.0" = "sklearn"\n'
    )
    proc = amlrun("run", "pipeline.yml", "--dry-run", cwd=ws)
    assert proc.returncode == 2
    assert "[tool.amlrun.environments] AzureML-sklearn-1.0: must be a table" in proc.stderr
