"""A run as a graph for the web UI: its steps as nodes (status, key, why, producer, metrics)
and the wiring between them as edges.

Run records keep each step's outcome but not the wiring. A run submitted to the server has
its pipeline described by the worker that loaded it; a run of ``amlrun run`` is described
from its pipeline file as it is now, and when that file is gone or no longer loads the graph
still shows every recorded step, without edges, and says why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from amlrun.errors import AmlrunError
from amlrun.runs.db import RunDB
from amlrun.runs.metrics import StepMetrics, step_metrics


@dataclass(frozen=True)
class Node:
    name: str
    status: str | None = None  # None: not recorded yet (the run is still going)
    key: str | None = None
    reason: str | None = None
    duration_s: float | None = None
    backend: str | None = None
    produced_by: str | None = None  # a reused step: the run that ran it
    has_log: bool = False
    parameters: dict[str, Any] = field(default_factory=dict)  # the values the run used
    inputs: dict[str, str] = field(default_factory=dict)  # name -> what it is bound to
    input_hashes: dict[str, str] = field(default_factory=dict)  # name -> content hash
    outputs: list[str] = field(default_factory=list)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # mlflow: last, step, count
    logged_params: dict[str, str] = field(default_factory=dict)  # mlflow.log_param values


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    output: str
    input: str


@dataclass(frozen=True)
class Graph:
    run_id: str
    pipeline: str
    source: str
    status: str
    started: float | None
    finished: float | None
    nodes: list[Node]
    edges: list[Edge]
    note: str | None = None  # why the edges are missing, if they are
    submitted: bool = False  # came through the server's queue: outputs download, it cancels

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def run_graph(
    db: RunDB, run_id: str, shape: dict[str, Any] | None = None, config: dict | None = None
) -> Graph | None:
    """The graph of run ``run_id`` (a prefix works, as on the CLI), or None if unknown.

    ``shape``: the pipeline as the server's worker described it when it loaded it (see
    :func:`amlrun.server.graph.describe`); without it (a run of ``amlrun run``) the run's
    pipeline file is loaded and described now.
    """
    row = db.run(run_id)
    if row is None:
        return None
    rid, pipeline, started, finished, status, source = row
    note = None
    if shape is None:
        shape, note = _load_shape(source, config)
    recorded = {r[0]: r for r in db.steps(rid)}
    parts, logged = db.step_components(rid), step_metrics(db, rid)
    steps = shape.get("steps", {})
    names = list(steps) + [n for n in recorded if n not in steps]
    nodes = [
        _node(db, n, recorded.get(n), steps.get(n), parts.get(n), logged.get(n)) for n in names
    ]
    edges = edges_of(steps)
    return Graph(rid, pipeline, source, status, started, finished, nodes, edges, note)


def planned_graph(
    run_id: str, pipeline: str, status: str, shape: dict[str, Any], error: str | None = None
) -> Graph:
    """A run the server has queued or loaded but whose engine has not recorded it yet (or
    never will: ``error`` says why it ended before it started)."""
    steps = shape.get("steps", {})
    nodes = [Node(name, **_described(s)) for name, s in steps.items()]
    note = error or (None if steps else "the graph is drawn when the run has loaded its pipeline")
    return Graph(run_id, pipeline, "", status, None, None, nodes, edges_of(steps), note)


def edges_of(steps: dict[str, Any]) -> list[Edge]:
    return [
        Edge(bound["step"], name, bound["output"] or "", input_name)
        for name, step in steps.items()
        for input_name, bound in step["inputs"].items()
        if "step" in bound and bound["step"] in steps
    ]


def _load_shape(source: str, config: dict | None) -> tuple[dict[str, Any], str | None]:
    """The described pipeline at ``source`` (empty, with the reason, if it cannot load)."""
    from amlrun.loading import load_pipeline
    from amlrun.server.graph import describe

    if not source or not Path(source).is_file():
        return {}, f"the pipeline file {source or '(none)'} is gone: steps shown without wiring"
    try:
        return describe(load_pipeline(source, config=config)), None
    except AmlrunError as exc:
        return {}, f"the pipeline file no longer loads ({exc}): steps shown without wiring"


def _described(step: dict[str, Any]) -> dict[str, Any]:
    """A described step's parameters, inputs (as ``STEP.OUTPUT`` or the path) and outputs."""
    inputs = {
        name: f"{b['step']}.{b['output']}" if "step" in b else str(b.get("path"))
        for name, b in step["inputs"].items()
    }
    return {"parameters": step["parameters"], "inputs": inputs, "outputs": step["outputs"]}


def _node(
    db: RunDB,
    name: str,
    row: tuple | None,
    step: dict[str, Any] | None,
    parts: dict | None,
    logged: StepMetrics | None,
) -> Node:
    described = _described(step) if step is not None else {}
    if parts:  # what the key was made of: the parameters as resolved for this run
        described.update(parameters=parts.get("params", {}), input_hashes=parts.get("inputs", {}))
    if logged:  # what the script logged through mlflow (a reused step: its producer's)
        described.update(
            metrics={
                n: {k: v for k, v in m.as_json().items() if k != "history"}
                for n, m in sorted(logged.metrics.items())
            },
            logged_params=dict(logged.params),
        )
    if row is None:
        return Node(name, **described)
    _name, status, key, duration, reason, backend, log = row
    producer = db.producer(key) if status == "reused" and key else None
    return Node(
        name,
        status=status,
        key=key,
        reason=reason,
        duration_s=duration,
        backend=backend,
        produced_by=producer[0] if producer else None,
        has_log=bool(log) or producer is not None,
        **described,
    )


def overlay(graph: Graph, status: str, live: list[dict[str, Any]]) -> Graph:
    """``graph`` with the run's queue ``status`` and the live states of its steps (what the
    worker reports while the engine runs, before the run record has the step rows)."""
    states = {s["name"]: s for s in live}
    nodes = [
        replace(
            n,
            status=states[n.name]["status"],
            key=n.key or states[n.name].get("key"),
            reason=n.reason or states[n.name].get("reason"),
            duration_s=states[n.name].get("duration_s"),
            has_log=n.has_log or states[n.name]["status"] != "queued",
        )
        if n.status is None and n.name in states
        else n
        for n in graph.nodes
    ]
    known = {n.name for n in nodes}
    nodes += [Node(s["name"], status=s["status"]) for s in live if s["name"] not in known]
    return replace(graph, status=status, nodes=nodes)
