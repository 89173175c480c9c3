"""Pipelines: a DAG of steps, each one module invocation with bound inputs.

Nested pipelines are flattened at load time (step names become ``outer/inner``), so the
engine only ever sees module steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from amlrun.pipelines.sweep import Sweep  # at import: the model's annotations resolve
from amlrun.spec import behaviour
from amlrun.spec.model import Module


@dataclass(frozen=True)
class Binding:
    """What a step input is bound to.

    kind ``literal`` (a parameter value), ``path`` (local data), ``step`` (an upstream
    output), ``none`` (no value; ``value``: the unset pipeline input it came from, if any)
    or ``cloud`` (a reference only Azure ML can resolve; ``value`` says what it is).
    """

    kind: Literal["literal", "path", "step", "none", "cloud"]
    value: Any = None
    step: str | None = None
    output: str | None = None
    line: int | None = None


NONE = Binding("none")


@dataclass(frozen=True)
class Step:
    name: str
    module: Module | None  # None: the step cannot run locally (see ``blocked``)
    bindings: dict[str, Binding]
    source: Path
    line: int | None = None
    compute: str | None = None
    force_rerun: bool = False  # allow_reuse: false / force_rerun
    output_paths: dict[str, str] = field(default_factory=dict)  # node outputs with a path
    timeout_s: float | None = None
    env_vars: dict[str, str] = field(default_factory=dict)
    blocked: str | None = None
    #: a ``type: sweep`` node: ``module`` is its trial, run once per sampled parameter set
    sweep: Sweep | None = None

    def upstream(self) -> set[str]:
        return {b.step for b in self.bindings.values() if b.kind == "step" and b.step}


@dataclass(frozen=True)
class PipelineOutput:
    step: str
    output: str
    path: str | None = None  # where to materialize it (absolute; a final symlink unresolved)


@dataclass(frozen=True)
class Pipeline:
    name: str
    source: Path
    steps: dict[str, Step]  # topological order
    outputs: dict[str, PipelineOutput] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)  # effective pipeline input values
    force_rerun: bool = False
    continue_on_step_failure: bool = True
    default_compute: str | None = None

    def run(self, **options: Any):
        """Run this pipeline incrementally (see :func:`amlrun.run`)."""
        return behaviour.call("run_pipeline", self, **options)
