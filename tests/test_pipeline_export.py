"""``amlrun pipeline export``: the exported YAML, Python script and notebook build the very
steps of the original (same names, same keys, so a prior run is reused), and the Mermaid graph
shows every step and every output→input edge."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import amlrun, run_json
from tests.pipeline_ws import make_workspace

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sklearn-pipeline"


def keys(result: dict) -> dict[str, str | None]:
    return {s["name"]: s["key"] for s in result["steps"]}


@pytest.fixture
def ran_ws(tmp_path: Path) -> Path:
    """The small workspace, run once for real so every step has a key in the store."""
    make_workspace(tmp_path)
    result = run_json("pipeline.yml", cwd=tmp_path)
    assert {s["status"] for s in result["steps"]} == {"ran"}
    return tmp_path


def export(ws: Path, source: str, fmt: str, out: str) -> Path:
    amlrun("pipeline", "export", source, "--format", fmt, "-o", out, cwd=ws, check=True)
    return ws / out


@pytest.mark.parametrize(
    "fmt,out", [("yaml", "exported/pipeline.yml"), ("python", "exported/p.py")]
)
def test_exported_pipeline_reuses_every_step_of_the_original_with_the_same_keys(
    ran_ws: Path, fmt: str, out: str
) -> None:
    original = keys(run_json("pipeline.yml", "--dry-run", cwd=ran_ws))
    export(ran_ws, "pipeline.yml", fmt, out)
    again = run_json(out, "--dry-run", cwd=ran_ws)
    assert keys(again) == original
    assert {s["status"] for s in again["steps"]} == {"reused"}


def test_exported_notebook_builds_and_runs_the_pipeline_to_the_same_keys(
    ran_ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    original = keys(run_json("pipeline.yml", "--dry-run", cwd=ran_ws))
    path = export(ran_ws, "pipeline.yml", "notebook", "nb/pipeline.ipynb")
    monkeypatch.setenv("AMLRUN_WORKSPACE", str(ran_ws))
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=240, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    printed = "".join(
        o.get("text", "") for o in nb.cells[-2].outputs if o["output_type"] == "stream"
    )
    assert printed.strip().splitlines()[-1] == "4 reused"
    assert ast.literal_eval(nb.cells[-1].outputs[0]["data"]["text/plain"]) == original


def test_mermaid_graph_has_a_node_per_step_and_an_edge_per_output_to_input(ran_ws: Path) -> None:
    proc = amlrun(
        "pipeline", "export", "pipeline.yml", "--format", "mermaid", cwd=ran_ws, check=True
    )
    lines = proc.stdout.splitlines()
    assert lines[0] == "flowchart LR"
    nodes = dict(re.findall(r'^\s+(\w+)\["([^<"]+)<br/>', proc.stdout, re.M))
    assert sorted(nodes.values()) == ["prep", "report", "side", "train"]
    edges = {
        (nodes[a], label, nodes[b])
        for a, label, b in re.findall(r'^\s+(\w+) -- "([^"]+)" --> (\w+)$', proc.stdout, re.M)
    }
    assert edges == {("prep", "clean→data", "train"), ("train", "model→model", "report")}


def plan(result: dict) -> list[tuple[str, str | None]]:
    return [(s["status"], s["key"]) for s in result["steps"]]


@pytest.mark.parametrize(
    "source,fmt,out",
    [
        ("pipeline.yml", "yaml", "out/exported.yml"),
        ("pipeline_dsl.py", "yaml", "out/exported.yml"),
        ("pipeline.yml", "python", "out/exported.py"),
    ],
)
def test_the_sklearn_example_exports_to_a_pipeline_with_the_same_plan_and_keys(
    tmp_path: Path, source: str, fmt: str, out: str
) -> None:
    ws = tmp_path / "ex"
    shutil.copytree(EXAMPLE, ws)
    (ws / ".git").mkdir()
    original = run_json(source, "--dry-run", cwd=ws)
    export(ws, source, fmt, out)
    exported = run_json(out, "--dry-run", cwd=ws)
    assert plan(exported) == plan(original)
    if fmt == "yaml":  # the DSL names steps after their modules (prepare_data, ...)
        assert exported["steps"] == original["steps"]


def test_export_refuses_to_overwrite_a_file_without_force(ran_ws: Path) -> None:
    (ran_ws / "mine.yml").write_text("precious\n")
    proc = amlrun(
        "pipeline", "export", "pipeline.yml", "--format", "yaml", "-o", "mine.yml", cwd=ran_ws
    )
    assert proc.returncode == 2
    assert "--force" in proc.stderr + proc.stdout
    assert (ran_ws / "mine.yml").read_text() == "precious\n"


V1_PIPELINE = """
pipeline:
  description: v1 export
  steps:
    Hello:
      type: PythonScriptStep
      script_name: hello.py
      source_directory: steps
      arguments: [--word, parameter:word, --out, output:said]
      parameters:
        word: hi
      outputs:
        said: {destination: said_data}
"""


def v1_ws(root: Path) -> Path:
    (root / "steps").mkdir()
    (root / "steps" / "hello.py").write_text(
        "import sys, pathlib\n"
        "a = dict(zip(sys.argv[1::2], sys.argv[2::2]))\n"
        "pathlib.Path(a['--out'], 'said.txt').write_text(a['--word'] * 2)\n"
    )
    (root / "pipeline.yml").write_text(V1_PIPELINE.lstrip())
    (root / ".git").mkdir()
    return root


def test_a_v1_script_step_exports_as_an_inline_component_that_runs(tmp_path: Path) -> None:
    ws = v1_ws(tmp_path)
    out = export(ws, "pipeline.yml", "yaml", "out/exported.yml")
    assert "type: command" in out.read_text()
    result = run_json("out/exported.yml", cwd=ws)
    assert [(s["name"], s["status"]) for s in result["steps"]] == [("Hello", "ran")]


def test_python_export_of_a_v1_script_step_says_to_export_yaml_instead(tmp_path: Path) -> None:
    proc = amlrun("pipeline", "export", "pipeline.yml", "--format", "python", cwd=v1_ws(tmp_path))
    assert proc.returncode == 2
    assert "step 'Hello' is declared inside its pipeline file" in proc.stderr
    assert "--format yaml" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_step_that_never_reuses_is_named_when_the_export_cannot_carry_it(tmp_path: Path) -> None:
    ws = v1_ws(tmp_path)
    text = (
        (ws / "pipeline.yml")
        .read_text()
        .replace("type: PythonScriptStep", "type: PythonScriptStep\n      allow_reuse: false")
    )
    (ws / "pipeline.yml").write_text(text)
    proc = amlrun("pipeline", "export", "pipeline.yml", "--format", "yaml", cwd=ws, check=True)
    assert "note: step 'Hello' never reuses (allow_reuse: false)" in proc.stderr


@pytest.mark.parametrize("fmt,out", [("yaml", "out/flat.yml"), ("python", "out/flat.py")])
def test_a_nested_pipeline_exports_flattened_and_reuses_every_step(
    tmp_path: Path, fmt: str, out: str
) -> None:
    from tests.test_pipelines import NESTED, _write

    _write(tmp_path, NESTED)
    original = run_json("outer.yml", cwd=tmp_path)
    export(tmp_path, "outer.yml", fmt, out)
    again = run_json(out, "--dry-run", cwd=tmp_path)
    assert [s["key"] for s in again["steps"]] == [s["key"] for s in original["steps"]]
    assert {s["status"] for s in again["steps"]} == {"reused"}
    if fmt == "yaml":  # a job name cannot hold "/"
        assert [s["name"] for s in again["steps"]] == ["start", "sub__one", "sub__two", "end"]


def test_a_job_only_azure_ml_can_run_is_refused_naming_the_step(tmp_path: Path) -> None:
    (tmp_path / "p.yml").write_text("type: pipeline\njobs:\n  auto:\n    type: automl\n")
    proc = amlrun("pipeline", "export", "p.yml", "--format", "yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert "step 'auto' cannot be exported: 'automl' jobs run only on Azure ML" in proc.stderr
    assert "Traceback" not in proc.stderr
