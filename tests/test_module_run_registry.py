"""``amlrun module run azureml:NAME:VERSION|@LABEL``: running a registered version directly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import amlrun
from tests.pipeline_ws import make_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    make_workspace(tmp_path)
    amlrun("module", "register", "prep/prep.yml", cwd=tmp_path, check=True)
    return tmp_path


@pytest.mark.parametrize("ref", ["azureml:prep:1", "azureml:prep@default", "azureml:prep"])
def test_module_run_takes_a_registry_reference(ws: Path, ref: str) -> None:
    out = ws / f"out-{ref.replace(':', '_').replace('@', '_')}"
    proc = amlrun(
        "module", "run", ref, "-i", "raw=data", "-p", "factor=3", "-o", f"clean={out}", cwd=ws
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "clean.csv").read_text() == "a,3\nb,6\nc,9\n"


def test_module_run_of_an_unknown_reference_or_file_is_one_clear_error(ws: Path) -> None:
    proc = amlrun("module", "run", "azureml:nope:1", cwd=ws)
    assert proc.returncode == 2 and "amlrun module register" in proc.stderr
    proc = amlrun("module", "run", "missing.yml", cwd=ws)
    assert proc.returncode == 2
    assert "missing.yml is not a spec file or a registry reference" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_module_run_inputs_may_name_a_data_asset_or_a_datastore_path(ws: Path) -> None:
    amlrun("data", "register", "rows:1", "data", cwd=ws, check=True)
    (ws / "pyproject.toml").write_text('[tool.amlrun.datastores]\nlocal = "."\n')
    for i, raw in enumerate(["azureml:rows:1", "azureml://datastores/local/paths/data"]):
        out = ws / f"out{i}"
        proc = amlrun(
            "module", "run", "azureml:prep:1", "-i", f"raw={raw}", "-o", f"clean={out}", cwd=ws
        )
        assert proc.returncode == 0, proc.stderr
        assert (out / "clean.csv").read_text() == "a,2\nb,4\nc,6\n"
    proc = amlrun("module", "run", "prep/prep.yml", "-i", "raw=azureml://datastores/x/paths/y",
                  cwd=ws)  # fmt: skip
    assert proc.returncode == 2 and '[tool.amlrun.datastores]: x = "PATH or URL"' in proc.stderr
