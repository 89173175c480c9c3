"""Plan-time check of port data types along every connection of a pipeline.

Found when the pipeline loads (``module validate``, ``run``, ``status``), not when a step
reads a model folder where it expected a data frame: the error names both ports and both
types. Compatibility rules live in :mod:`amlrun.spec.datatypes`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from amlrun.errors import SpecError
from amlrun.pipelines.model import Pipeline, Step
from amlrun.spec.datatypes import Catalog
from amlrun.spec.porttypes import typed_module


def check_connections(pipeline: Pipeline, catalog: Catalog) -> Pipeline:
    """The pipeline with custom port kinds resolved; raises on an unknown type or a mismatch."""
    steps = {}
    for name, step in pipeline.steps.items():
        m = step.module
        typed = typed_module(m, catalog, where=f"step '{name}': ") if m is not None else None
        steps[name] = step if typed is m else replace(step, module=typed)
    for step in steps.values():
        for input_name, b in step.bindings.items():
            up = steps.get(b.step or "") if b.kind == "step" else None
            if up is not None:
                check_link(catalog, step, input_name, up, file=step.source)
    return replace(pipeline, steps=steps)


def check_link(catalog: Catalog, step: Step, input_name: str, up: Step, *, file: Path) -> None:
    """The output ``step.inputs.<input_name>`` is bound to, on ``up``, is of a type it accepts."""
    b = step.bindings[input_name]
    port = step.module.port(input_name) if step.module else None
    out = up.module.output(b.output or "") if up.module else None
    if port is None or out is None or catalog.connects(out.type, port.type):
        return
    raise SpecError(
        f"{up.name}.outputs.{b.output} ({out.type}) cannot feed "
        f"{step.name}.inputs.{input_name}, which accepts {port.type.replace('|', ', ')}",
        file=file,
        line=b.line or step.line,
        field=f"jobs.{step.name}.inputs.{input_name}",
        fix=f"connect an output of type {port.type.split('|')[0]} (or a type derived "
        f"from it), or register {out.type} with a parent the input accepts",
    )
