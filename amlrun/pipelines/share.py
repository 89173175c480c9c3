"""Equal parts of a pipeline's modules, held as one object each.

A pipeline of 10,000 nodes running one component (or inline commands with the same ports)
holds 10,000 equal copies of its ports, parameters, environment and command. They are frozen
values, so one object can stand for all of them: the plan the cache pickles is half the
size, and a null run unpickles it faster and holds less memory.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from amlrun.pipelines.model import Pipeline

_PARTS = ("inputs", "outputs", "parameters", "environment", "command")


def share_equal_parts(pipeline: Pipeline) -> Pipeline:
    """``pipeline`` with each step's module parts replaced by the first equal one seen."""
    seen: dict[Any, Any] = {}

    def first(value: Any) -> Any:
        try:
            return seen.setdefault(value, value)
        except TypeError:  # a part holding a dict (a conda file's contents): kept as is
            return value

    for name, step in pipeline.steps.items():
        module = step.module
        if module is None:
            continue
        parts = {f: first(getattr(module, f)) for f in _PARTS}
        if any(parts[f] is not getattr(module, f) for f in _PARTS):
            pipeline.steps[name] = replace(step, module=replace(module, **parts))
    return pipeline
