"""Curated Azure ML environments: shipped definitions, user mappings, and the one note."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace

UNMAPPED = "azureml:AzureML-sklearn-1.0:1"  # what pipeline_ws's prep step names


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    make_workspace(tmp_path)
    return tmp_path


def _use_env(ws: Path, spec: str, env: str) -> None:
    path = ws / spec
    text = path.read_text()
    if "environment:" in text:
        text = text.replace(f"environment: {UNMAPPED}", f"environment: {env}")
    else:
        text = text.replace("command:", f"environment: {env}\ncommand:", 1)
    path.write_text(text)


def _prep_key(ws: Path) -> str:
    proc = amlrun("run", "pipeline.yml", "--dry-run", "--json", cwd=ws, check=True)
    return {s["name"]: s["key"] for s in json.loads(proc.stdout)["steps"]}["prep"]


def _notes(proc) -> list[str]:
    return [ln for ln in proc.stderr.splitlines() if ln.startswith("note: ")]


def test_a_curated_name_resolves_to_its_shipped_definition_whatever_version_or_label(ws: Path):
    unmapped = _prep_key(ws)
    _use_env(ws, "prep/prep.yml", "azureml:AzureML-Scikit-learn-0.20.3:1")
    shipped = _prep_key(ws)
    assert shipped != unmapped  # the packages it resolves to are in the key
    for ref in (
        "azureml:AzureML-Scikit-learn-0.20.3@latest",
        "azureml:azureml-scikit-learn-0.20.3:7",
    ):
        (ws / "prep/prep.yml").write_text(
            (ws / "prep/prep.yml").read_text().replace(
                next(ln for ln in (ws / "prep/prep.yml").read_text().splitlines()
                     if ln.startswith("environment:")),
                f"environment: {ref}",
            )
        )  # fmt: skip
        assert _prep_key(ws) == shipped  # the name decides, not the label that led to it
    (ws / "pyproject.toml").write_text(
        '[tool.amlrun.environments]\n"AzureML-Scikit-learn-0.20.3" = {pip = ["joblib==1.4.2"]}\n'
    )
    assert _prep_key(ws) not in (shipped, unmapped)  # a user mapping wins over the shipped one


def test_an_unmapped_curated_name_gives_one_note_with_the_line_to_add(ws: Path) -> None:
    _use_env(ws, "train/train.yml", "azureml:AzureML-sklearn-1.0@latest")
    proc = amlrun("run", "pipeline.yml", "--json", cwd=ws, check=True)
    env_notes = [n for n in _notes(proc) if "environment" in n]
    assert env_notes == [
        "note: environment AzureML-sklearn-1.0 has no local definition and runs on the current "
        'interpreter (to pin it, add to [tool.amlrun.environments]: "AzureML-sklearn-1.0" = '
        '{pip = ["PACKAGE==VERSION"]})'
    ]
    (ws / "pyproject.toml").write_text(
        '[tool.amlrun.environments]\n"AzureML-sklearn-1.0" = {pip = []}\n'
    )
    again = amlrun("run", "pipeline.yml", "--json", cwd=ws, check=True)
    assert not [n for n in _notes(again) if "environment" in n]


def test_a_python_pin_the_machine_cannot_honour_is_one_note_not_one_per_step(ws: Path) -> None:
    _use_env(ws, "prep/prep.yml", "azureml:AzureML-Minimal:1")
    _use_env(ws, "train/train.yml", "azureml:AzureML-Minimal@latest")
    proc = amlrun("run", "pipeline.yml", "--json", cwd=ws, check=True)
    pins = [n for n in _notes(proc) if "python=" in n]
    assert len(pins) == 1, proc.stderr
    assert pins[0].startswith("note: conda pins python=3.6.2, which this machine cannot honour")
    assert set(statuses(json.loads(proc.stdout.splitlines()[-1])).values()) == {"ran"}


def test_a_registry_environment_uri_takes_a_mapping_by_its_name(ws: Path) -> None:
    uri = "azureml://registries/azureml/environments/sklearn-1.5/labels/latest"
    _use_env(ws, "prep/prep.yml", uri)
    proc = amlrun("run", "pipeline.yml", "--json", cwd=ws, check=True)
    assert any('"sklearn-1.5" = {pip = ["PACKAGE==VERSION"]}' in n for n in _notes(proc))
    before = _prep_key(ws)
    (ws / "pyproject.toml").write_text('[tool.amlrun.environments]\n"sklearn-1.5" = {pip = []}\n')
    assert _prep_key(ws) != before


def test_a_v1_runconfig_naming_a_curated_environment_resolves_it(tmp_path: Path) -> None:
    files = {
        "steps/hello.py": "import sys, pathlib\npathlib.Path(sys.argv[1], 'o').write_text('hi')\n",
        "runconfig.yml": "environment:\n  name: AzureML-Minimal\n  version: '1'\n",
        "pipeline.yml": """
            pipeline:
              steps:
                Hello:
                  type: PythonScriptStep
                  script_name: hello.py
                  source_directory: steps
                  runconfig: runconfig.yml
                  arguments: [output:out]
                  outputs:
                    out: {destination: hello_out}
        """,
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(textwrap.dedent(text).lstrip())
    (tmp_path / ".git").mkdir()
    proc = amlrun("run", "pipeline.yml", "--json", cwd=tmp_path, check=True)
    assert any(n.startswith("note: conda pins python=3.6.2") for n in _notes(proc))
    assert statuses(run_json("pipeline.yml", cwd=tmp_path)) == {"Hello": "reused"}
