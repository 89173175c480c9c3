"""``[tool.amlrun.datastores]``: Azure ML datastore paths read from local folders or URLs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace

SHORT = "azureml://datastores/blobs/paths/landing/rows"
LONG = (
    "azureml://subscriptions/0000/resourcegroups/rg/workspaces/ws/datastores/blobs/paths/"
    "landing/rows"
)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    make_workspace(tmp_path)
    (tmp_path / "store/landing/rows").mkdir(parents=True)
    (tmp_path / "store/landing/rows/rows.csv").write_text("a,5\nb,6\n")
    return tmp_path


def _point_raw_at(ws: Path, uri: str) -> None:
    text = (ws / "pipeline.yml").read_text().replace("path: ./data", f"path: {uri}")
    (ws / "pipeline.yml").write_text(text)


def _map(ws: Path, root: str) -> None:
    (ws / "pyproject.toml").write_text(f'[tool.amlrun.datastores]\nblobs = "{root}"\n')


@pytest.mark.parametrize("uri", [SHORT, LONG])
def test_a_datastore_path_reads_the_mapped_folder_relative_to_the_workspace(ws: Path, uri: str):
    _point_raw_at(ws, uri)
    _map(ws, "store")
    sub = ws / "prep"  # run from a subfolder: the mapping is relative to the workspace
    result = run_json("../pipeline.yml", "--output", f"prep.outputs.clean={ws / 'out'}", cwd=sub,
                      env={"AMLRUN_WORKSPACE": str(ws)})  # fmt: skip
    assert statuses(result)["prep"] == "ran"
    assert (ws / "out/clean.csv").read_text() == "a,10\nb,12\n"


def test_an_unmapped_datastore_loads_but_the_run_names_the_line_to_add(ws: Path) -> None:
    _point_raw_at(ws, SHORT)
    assert amlrun("module", "validate", "pipeline.yml", cwd=ws).returncode == 0
    proc = amlrun("run", "pipeline.yml", cwd=ws)
    assert proc.returncode == 2
    assert 'add to [tool.amlrun.datastores]: blobs = "PATH or URL"' in proc.stderr


def test_a_datastore_path_may_not_leave_its_root(ws: Path) -> None:
    _point_raw_at(ws, "azureml://datastores/blobs/paths/../../etc")
    _map(ws, "store")
    proc = amlrun("run", "pipeline.yml", cwd=ws)
    assert proc.returncode == 2 and "leaves the datastore" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_v1_data_references_resolve_through_the_same_table(ws: Path) -> None:
    (ws / "steps").mkdir()
    (ws / "steps/count.py").write_text(
        "import sys, pathlib\n"
        "n = len(pathlib.Path(sys.argv[1], 'rows.csv').read_text().split())\n"
        "pathlib.Path(sys.argv[2], 'n.txt').write_text(str(n))\n"
    )
    (ws / "v1.yml").write_text(
        textwrap.dedent("""
        pipeline:
          data_references:
            raw: {datastore: blobs, path_on_datastore: landing/rows}
          steps:
            Count:
              type: PythonScriptStep
              script_name: count.py
              source_directory: steps
              arguments: [input:raw_in, output:n]
              inputs:
                raw_in: {source: raw}
              outputs:
                n: {destination: counted}
    """)
    )
    _map(ws, "store")
    assert statuses(run_json("v1.yml", cwd=ws)) == {"Count": "ran"}
