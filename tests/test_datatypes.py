"""Port data types: built-ins, ``amlrun datatype register``, and connections checked by type."""

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


def _retype(ws: Path, spec: str, old: str, new: str) -> None:
    path = ws / spec
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _keys(ws: Path) -> dict[str, str]:
    proc = amlrun("run", "pipeline.yml", "--dry-run", "--json", cwd=ws, check=True)
    return {s["name"]: s["key"] for s in json.loads(proc.stdout)["steps"]}


def test_an_output_the_input_does_not_accept_is_refused_at_validate_run_and_status(
    ws: Path,
) -> None:
    _retype(ws, "prep/prep.yml", "clean: {type: uri_folder}", "clean: {type: DataFrameDirectory}")
    _retype(ws, "train/train.yml", "data: {type: uri_folder}", "data: {type: ModelDirectory}")
    for args in (
        ("module", "validate", "pipeline.yml"),
        ("run", "pipeline.yml"),
        ("status", "pipeline.yml"),
    ):
        proc = amlrun(*args, cwd=ws)
        told = proc.stdout + proc.stderr
        assert proc.returncode == 2, told
        assert "prep.outputs.clean (DataFrameDirectory) cannot feed train.inputs.data" in told
        assert "accepts ModelDirectory" in told
        assert "Traceback" not in told
    assert not (ws / ".amlrun" / "runs").exists() or not list((ws / ".amlrun/runs").iterdir())


def test_a_v1_input_accepts_any_type_it_lists_and_their_descendants(ws: Path) -> None:
    _retype(ws, "prep/prep.yml", "clean: {type: uri_folder}", "clean: {type: DataFrameDirectory}")
    _retype(
        ws,
        "train/train.yml",
        "data: {type: uri_folder}",
        "data: {type: [ModelDirectory, DataFrameDirectory]}",
    )
    _retype(ws, "report/report.yml", "model: {type: uri_folder}", "model: {type: AnyDirectory}")
    assert set(statuses(run_json("pipeline.yml", cwd=ws)).values()) == {"ran"}


def test_v2_folder_types_mix_but_a_file_never_feeds_a_folder_input(ws: Path) -> None:
    _retype(ws, "prep/prep.yml", "clean: {type: uri_folder}", "clean: {type: mltable}")
    _retype(ws, "train/train.yml", "model: {type: uri_folder}", "model: {type: mlflow_model}")
    assert amlrun("module", "validate", "pipeline.yml", cwd=ws).returncode == 0
    text = (ws / "pipeline.yml").read_text()
    (ws / "pipeline.yml").write_text(
        text + "  late:\n    component: ./report/report.yml\n"
        "    inputs:\n      model: ${{parent.jobs.side.outputs.o}}\n"
    )
    proc = amlrun("module", "validate", "pipeline.yml", cwd=ws)
    assert proc.returncode == 2
    assert "side.outputs.o (uri_file) cannot feed late.inputs.model" in proc.stdout


def test_an_unregistered_custom_type_names_the_register_command(ws: Path) -> None:
    _retype(ws, "prep/prep.yml", "clean: {type: uri_folder}", "clean: {type: SparseMatrix}")
    _retype(ws, "train/train.yml", "data: {type: uri_folder}", "data: {type: DataFrameDirectory}")
    proc = amlrun("run", "pipeline.yml", cwd=ws)
    assert proc.returncode == 2
    assert "outputs.clean has data type 'SparseMatrix', which is not registered" in proc.stderr
    assert "amlrun datatype register SparseMatrix" in proc.stderr
    assert amlrun("module", "validate", "prep/prep.yml", cwd=ws).returncode == 2
    amlrun("datatype", "register", "SparseMatrix", "--parent", "DataFrameDirectory", cwd=ws,
           check=True)  # fmt: skip
    assert amlrun("module", "validate", "prep/prep.yml", cwd=ws).returncode == 0
    assert set(statuses(run_json("pipeline.yml", cwd=ws)).values()) == {"ran"}


def test_a_registered_file_type_gives_its_ports_a_file(ws: Path) -> None:
    amlrun("datatype", "register", "TextFile", "--parent", "AnyFile", cwd=ws, check=True)
    _retype(ws, "side/side.yml", "o: {type: uri_file}", "o: {type: TextFile}")
    result = run_json("pipeline.yml", cwd=ws)
    assert statuses(result)["side"] == "ran"  # side.py writes its output path as a file


def test_changing_only_a_port_type_name_keeps_every_key(ws: Path) -> None:
    before = _keys(ws)
    amlrun("datatype", "register", "Cleaned", "--parent", "uri_folder", cwd=ws, check=True)
    _retype(ws, "prep/prep.yml", "clean: {type: uri_folder}", "clean: {type: Cleaned}")
    _retype(ws, "train/train.yml", "data: {type: uri_folder}", "data: {type: AnyDirectory}")
    assert _keys(ws) == before
    _retype(ws, "side/side.yml", "o: {type: uri_file}", "o: {type: uri_folder}")
    after = _keys(ws)
    assert after["side"] != before["side"]  # a file became a folder: what runs changed


def test_datatype_register_is_create_only_and_checks_its_parents(ws: Path) -> None:
    first = amlrun("datatype", "register", "Graph", "--parent", "AnyDirectory", cwd=ws, check=True)
    assert first.stdout.startswith("registered data type Graph")
    again = amlrun("datatype", "register", "Graph", "--parent", "AnyDirectory", cwd=ws, check=True)
    assert again.stdout.startswith("unchanged data type Graph")
    proc = amlrun("datatype", "register", "Graph", "--parent", "ModelDirectory", cwd=ws)
    assert proc.returncode == 2 and "different content" in proc.stderr
    assert "parents AnyDirectory" in proc.stderr and "parents ModelDirectory" in proc.stderr
    proc = amlrun("datatype", "register", "Tree", "--parent", "Forest", cwd=ws)
    assert proc.returncode == 2 and "parent data type 'Forest' does not exist" in proc.stderr
    proc = amlrun("datatype", "register", "Odd", "--file", "--parent", "Graph", cwd=ws)
    assert proc.returncode == 2 and "parent Graph is a folder type" in proc.stderr
    proc = amlrun("datatype", "register", "uri_FOLDER", cwd=ws)
    assert proc.returncode == 2 and "built-in" in proc.stderr
    amlrun("datatype", "register", "DagGraph", "--parent", "Graph", cwd=ws, check=True)
    listed = amlrun("datatype", "list", cwd=ws, check=True).stdout
    assert "ModelDirectory" in listed and "mltable" in listed and "DagGraph" in listed
    shown = amlrun("datatype", "show", "DagGraph", cwd=ws, check=True).stdout
    assert "kind: folder" in shown and "ancestors: Graph, AnyDirectory" in shown
    proc = amlrun("datatype", "show", "Nope", cwd=ws)
    assert proc.returncode == 2 and "amlrun datatype register Nope" in proc.stderr
