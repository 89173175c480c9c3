"""A run's pipeline as data for the API and the UI: each step's upstream steps, parameter
values, what its inputs are bound to and its outputs (downloadable as ``STEP/OUTPUT``).
Written by the worker when it has loaded the pipeline, read with the run's status."""

from __future__ import annotations

import json
from typing import Any

from amlrun.pipelines.model import Binding, Pipeline


def _bound(b: Binding) -> Any:
    if b.kind == "step":
        return {"step": b.step, "output": b.output}
    if b.kind == "path":
        return {"path": str(b.value)}
    return None


def describe(pipeline: Pipeline) -> dict[str, Any]:
    """{"outputs": {name: {step, output}}, "steps": {name: {upstream, parameters, inputs,
    outputs}}} in the pipeline's (topological) order."""
    steps = {}
    for name, step in pipeline.steps.items():
        literals = {k: b.value for k, b in step.bindings.items() if b.kind == "literal"}
        steps[name] = {
            "upstream": sorted(step.upstream()),
            "parameters": json.loads(json.dumps(literals, default=str)),
            "inputs": {k: v for k, b in step.bindings.items() if (v := _bound(b)) is not None},
            "outputs": [p.name for p in step.module.outputs] if step.module else [],
        }
    outputs = {k: {"step": o.step, "output": o.output} for k, o in pipeline.outputs.items()}
    return {"outputs": outputs, "steps": steps}
