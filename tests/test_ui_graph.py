"""The run graph the web UI draws: steps with their status, key, parameters and producer,
edges from the pipeline's wiring; a run whose pipeline file is gone still shows its steps."""

from __future__ import annotations

from pathlib import Path

from amlrun.runs.db import RunDB
from amlrun.server.ui_graph import Edge, Graph, Node, overlay, planned_graph, run_graph
from tests.helpers import run_json
from tests.ui_ws import make_ui_workspace


def _graph(ws: Path, run_id: str) -> dict:
    db = RunDB(ws / ".amlrun" / "runs.sqlite")
    try:
        graph = run_graph(db, run_id)
        assert graph is not None
        return graph.to_json()
    finally:
        db.close()


def test_a_reused_run_graph_names_the_producing_run_its_parameters_and_metrics(
    tmp_path: Path,
) -> None:
    pipeline = make_ui_workspace(tmp_path)
    (tmp_path / "gate").touch()
    gate = f"gate={tmp_path / 'gate'}"
    first = run_json(str(pipeline), "--set", gate, cwd=tmp_path)
    second = run_json(str(pipeline), "--set", gate, cwd=tmp_path)
    graph = _graph(tmp_path, second["run_id"])
    nodes = {n["name"]: n for n in graph["nodes"]}
    assert list(nodes) == ["hello", "wait", "done"]
    assert {n["status"] for n in nodes.values()} == {"reused"}
    assert {n["produced_by"] for n in nodes.values()} == {first["run_id"]}
    assert nodes["wait"]["parameters"] == {"gate": str(tmp_path / "gate")}  # not the default
    assert nodes["wait"]["inputs"] == {"said": "hello.said"}
    assert nodes["wait"]["input_hashes"]["said"]
    edges = {(e["source"], e["target"]) for e in graph["edges"]}
    assert edges == {("hello", "wait"), ("wait", "done")}
    assert nodes["done"]["metrics"]["accuracy"] == {"last": 0.875, "step": 2, "count": 3}
    assert nodes["done"]["logged_params"] == {"words": "1"}
    first_graph = _graph(tmp_path, first["run_id"])
    assert {n["status"] for n in first_graph["nodes"]} == {"ran"}
    assert all(n["produced_by"] is None and n["has_log"] for n in first_graph["nodes"])


def test_a_run_whose_pipeline_file_is_gone_still_shows_its_steps(tmp_path: Path) -> None:
    pipeline = make_ui_workspace(tmp_path)
    (tmp_path / "gate").touch()
    result = run_json(str(pipeline), "--set", f"gate={tmp_path / 'gate'}", cwd=tmp_path)
    pipeline.unlink()
    graph = _graph(tmp_path, result["run_id"])
    assert [n["name"] for n in graph["nodes"]] == ["hello", "wait", "done"]
    assert graph["edges"] == [] and "is gone" in graph["note"]


def test_live_step_states_fill_in_what_the_record_does_not_have_yet() -> None:
    recorded = Graph(
        "r1", "p", "p.yml", "running", 1.0, None, [Node("a", status="ran"), Node("b")], []
    )
    live = [
        {"name": "a", "status": "running"},  # the record wins once it has the step
        {"name": "b", "status": "running", "key": "k", "log": "/tmp/b.log"},
        {"name": "c", "status": "queued"},
    ]
    shown = overlay(recorded, "running", live)
    assert [(n.name, n.status) for n in shown.nodes] == [
        ("a", "ran"),
        ("b", "running"),
        ("c", "queued"),
    ]
    assert shown.nodes[1].key == "k" and shown.nodes[1].has_log


def test_a_run_not_started_yet_is_drawn_from_the_workers_description() -> None:
    shape = {
        "steps": {
            "a": {"upstream": [], "parameters": {"n": 1}, "inputs": {}, "outputs": ["o"]},
            "b": {
                "upstream": ["a"],
                "parameters": {},
                "inputs": {"i": {"step": "a", "output": "o"}, "d": {"path": "/data"}},
                "outputs": [],
            },
        }
    }
    graph = planned_graph("r2", "p", "queued", shape)
    assert [(n.name, n.status) for n in graph.nodes] == [("a", None), ("b", None)]
    assert graph.nodes[1].inputs == {"i": "a.o", "d": "/data"}
    assert graph.edges == [Edge("a", "b", "o", "i")] and graph.note is None
    failed = planned_graph("r3", "p", "failed", {}, "the pipeline no longer loads")
    assert failed.nodes == [] and failed.note == "the pipeline no longer loads"
