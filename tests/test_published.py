"""Published pipelines: frozen versions behind a name (``amlrun pipeline publish|endpoint``)."""

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


def _run_published(root: Path, name: str, version: str | None = None, **overrides):
    """Run the published pipeline as the server's workers do (from its frozen checkout)."""
    from amlrun.cache.store import open_store
    from amlrun.engine.runner import Engine
    from amlrun.published import resolve_published
    from amlrun.workspace import Workspace

    w = Workspace(root)
    published = resolve_published(w, name, version, overrides)
    store = open_store(w.config.get("store"), w.root)
    return Engine(published.pipeline, workspace=w, store=store).run()


def test_a_published_pipeline_runs_as_published_after_its_sources_are_edited(ws: Path):
    amlrun("pipeline", "publish", "pipeline.yml", "--name", "tp", cwd=ws, check=True)
    prep = ws / "prep/src/prep.py"
    prep.write_text(prep.read_text().replace("int(v) * factor", "int(v) * factor + 1000"))
    (ws / "data/rows.csv").write_text("z,9\n")
    (ws / "pipeline.yml").write_text("not: a pipeline any more\n")

    result = _run_published(ws, "tp")

    assert result.ok
    prep_out = result.steps[0]
    assert prep_out.name == "prep" and prep_out.status == "ran"
    store_out = ws / "clean"
    proc = amlrun("runs", "outputs", result.run_id, "prep", "-o", str(store_out), cwd=ws)
    assert proc.returncode == 0, proc.stderr
    assert (store_out / "prep/clean/clean.csv").read_text() == "a,2\nb,4\nc,6\n"


def test_a_published_pipeline_reuses_the_results_of_its_unchanged_source(ws: Path):
    first = run_json("pipeline.yml", cwd=ws)
    assert set(statuses(first).values()) == {"ran"}
    amlrun("pipeline", "publish", "pipeline.yml", "--name", "tp", cwd=ws, check=True)

    result = _run_published(ws, "tp")

    assert {s.status for s in result.steps} == {"reused"}


def test_republishing_unchanged_content_is_a_no_op_and_an_edit_is_the_next_version(ws: Path):
    publish = ("pipeline", "publish", "pipeline.yml", "--name", "tp")
    assert "published tp:1" in amlrun(*publish, cwd=ws, check=True).stdout
    again = amlrun(*publish, cwd=ws, check=True).stdout
    assert "already published, unchanged: tp:1" in again
    (ws / "train/src/train.py").write_text("print('v2')\n")

    edited = amlrun(*publish, cwd=ws, check=True).stdout

    assert "published tp:2" in edited and "default version of tp stays 1" in edited
    shown = json.loads(amlrun("pipeline", "endpoint", "show", "tp", "--json", cwd=ws).stdout)
    assert [(v["version"], v["default"]) for v in shown["versions"]] == [("1", True), ("2", False)]
    assert shown["versions"][0]["parameters"]["factor"] == {"type": "integer", "default": 2}
    assert shown["versions"][0]["inputs"]["raw"]["type"] == "uri_folder"


def test_a_version_number_is_immutable(ws: Path):
    publish = ("pipeline", "publish", "pipeline.yml", "--name", "tp", "--version", "7")
    amlrun(*publish, cwd=ws, check=True)
    (ws / "train/src/train.py").write_text("print('changed')\n")

    proc = amlrun(*publish, cwd=ws)

    assert proc.returncode == 2
    assert "already registered" in proc.stderr and "Traceback" not in proc.stderr


def test_set_default_and_disable_decide_which_version_a_submission_runs(ws: Path):
    from amlrun.errors import SpecError
    from amlrun.published import resolve_published
    from amlrun.workspace import Workspace

    amlrun("pipeline", "publish", "pipeline.yml", "--name", "tp", cwd=ws, check=True)
    amlrun("pipeline", "publish", "pipeline.yml", "--name", "tp", "--version", "2", cwd=ws)
    amlrun("pipeline", "endpoint", "set-default", "tp", "2", cwd=ws, check=True)
    assert resolve_published(Workspace(ws), "tp").record.version == "2"
    listed = amlrun("pipeline", "endpoint", "list", cwd=ws, check=True).stdout
    assert "tp  default 2  versions 1, 2" in listed

    amlrun("pipeline", "endpoint", "disable", "tp:2", cwd=ws, check=True)

    with pytest.raises(SpecError, match="tp version 2 is disabled"):
        resolve_published(Workspace(ws), "tp")
    assert resolve_published(Workspace(ws), "tp", "1").record.version == "1"
    assert "disabled: 2" in amlrun("pipeline", "endpoint", "list", cwd=ws).stdout


def test_unknown_published_pipeline_is_a_clear_error(ws: Path):
    proc = amlrun("pipeline", "endpoint", "show", "nope", cwd=ws)

    assert proc.returncode == 2
    assert "no published pipeline named 'nope'" in proc.stderr


def test_files_outside_the_workspace_cannot_be_published(ws: Path, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "rows.csv").write_text("q,1\n")
    text = (ws / "pipeline.yml").read_text().replace("path: ./data", f"path: {outside}")
    (ws / "pipeline.yml").write_text(text)

    proc = amlrun("pipeline", "publish", "pipeline.yml", "--name", "tp", cwd=ws)

    assert proc.returncode == 2
    assert "outside the workspace" in proc.stderr and "Traceback" not in proc.stderr
