"""A run as a graph for the web UI: its steps as nodes (status, key, why, producer) and the
wiring between them as edges.

Run records keep each step's outcome but not the wiring, so the edges, parameters and input
bindings come from the run's pipeline file as it is now; when that file is gone or no longer
loads, the graph still shows every recorded step, without edges, and says why.
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
    module: str | None = None
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


def run_graph(db: RunDB, run_id: str, config: dict[str, Any] | None = None) -> Graph | None:
    """The graph of run ``run_id`` (a prefix works, as on the CLI), or None if unknown."""
    row = db.run(run_id)
    if row is None:
        return None
    rid, pipeline, started, finished, status, source = row
    recorded = {r[0]: r for r in db.steps(rid)}
    components = db.step_components(rid)
    logged = step_metrics(db, rid)
    wiring, note = _wiring(source, config)
    names = list(wiring) + [n for n in recorded if n not in wiring]
    nodes = [
        _node(
            db, name, recorded.get(name), wiring.get(name), components.get(name), logged.get(name)
        )
        for name in names
    ]
    edges = [
        Edge(b.step, name, b.output or "", input_name)
        for name, step in wiring.items()
        for input_name, b in step.bindings.items()
        if b.kind == "step" and b.step in wiring
    ]
    return Graph(rid, pipeline, source, status, started, finished, nodes, edges, note)


def _wiring(source: str, config: dict[str, Any] | None) -> tuple[dict[str, Any], str | None]:
    """The steps of the pipeline at ``source`` (empty, with the reason, if it cannot load)."""
    from amlrun.loading import load_pipeline

    if not source or not Path(source).is_file():
        return {}, f"the pipeline file {source or '(none)'} is gone: steps shown without wiring"
    try:
        return dict(load_pipeline(source, config=config).steps), None
    except AmlrunError as exc:
        return {}, f"the pipeline file no longer loads ({exc}): steps shown without wiring"


def _node(
    db: RunDB,
    name: str,
    row: tuple | None,
    step: Any,
    parts: dict | None,
    logged: StepMetrics | None,
) -> Node:
    described = _describe(step) if step is not None else {}
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


def _describe(step: Any) -> dict[str, Any]:
    """Module name, literal parameters, data bindings and output names of a pipeline step."""
    params, inputs = {}, {}
    for name, b in step.bindings.items():
        if b.kind == "literal":
            params[name] = b.value
        elif b.kind == "step":
            inputs[name] = f"{b.step}.{b.output}"
        elif b.kind in ("path", "cloud"):
            inputs[name] = str(b.value)
    module = step.module
    return {
        "module": module.name if module else None,
        "parameters": params,
        "inputs": inputs,
        "outputs": [o.name for o in module.outputs] if module else [],
    }


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
            has_log=n.has_log or bool(states[n.name].get("log")),
        )
        if n.status is None and n.name in states
        else n
        for n in graph.nodes
    ]
    known = {n.name for n in nodes}
    nodes += [Node(s["name"], status=s["status"]) for s in live if s["name"] not in known]
    return replace(graph, status=status, nodes=nodes)
