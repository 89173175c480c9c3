"""The pipeline DSL: ``@amlrun.pipeline`` functions call modules like functions.

While a pipeline function runs, calling a Module adds a step to the pipeline being built and
returns a node whose ``.outputs.<name>`` can be passed on. Pipeline functions nest: calling
one inside another flattens its steps under ``<node>/``.
"""

from __future__ import annotations

import contextvars
import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amlrun.errors import SpecError
from amlrun.pipelines.model import NONE, Binding, Pipeline, PipelineOutput, Step
from amlrun.spec.model import Module


@dataclass(frozen=True)
class OutputRef:
    """``node.outputs.x``: an upstream output to bind to an input."""

    step: str
    output: str


class _Outputs:
    def __init__(self, step: str, names: dict[str, OutputRef]) -> None:
        self._step = step
        self._names = names

    def __getattr__(self, name: str) -> OutputRef:
        try:
            return self._names[name]
        except KeyError:
            raise SpecError(
                f"step '{self._step}' has no output '{name}'",
                fix="use one of: " + ", ".join(self._names),
            ) from None

    def __getitem__(self, name: str) -> OutputRef:
        return self.__getattr__(name)


@dataclass
class Node:
    name: str
    outputs: _Outputs


@dataclass
class _Build:
    prefix: str
    source: Path
    steps: dict[str, Step] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def unique(self, base: str) -> str:
        n = self.counts.get(base, 0) + 1
        self.counts[base] = n
        return f"{self.prefix}{base}" if n == 1 else f"{self.prefix}{base}_{n}"


_current: contextvars.ContextVar[_Build | None] = contextvars.ContextVar(
    "amlrun_build", default=None
)


def _binding(value: Any, module: Module, name: str) -> Binding:
    if value is None:
        return NONE
    if isinstance(value, OutputRef):
        return Binding("step", step=value.step, output=value.output)
    if module.port(name) is not None:
        text = os.fspath(value)
        return Binding("path", text if "://" in text else str(Path(text).resolve()))
    return Binding("literal", value)


def call_module(module: Module, bindings: dict[str, Any]) -> Node:
    build = _current.get()
    if build is None:
        raise SpecError(
            f"module '{module.name}' was called outside an @amlrun.pipeline function",
            fix="call modules inside a pipeline function, or use module.run(...)",
        )
    frame = inspect.stack()[2]
    base = "".join(c if c.isalnum() or c in "_-" else "_" for c in module.name)
    name = build.unique(base)
    for k in bindings:
        if module.port(k) is None and module.parameter(k) is None:
            raise SpecError(
                f"module '{module.name}' has no input '{k}'",
                file=frame.filename,
                line=frame.lineno,
                fix="use one of: " + ", ".join(module.input_names),
            )
    step = Step(
        name=name,
        module=module,
        bindings={k: _binding(v, module, k) for k, v in bindings.items()},
        source=Path(frame.filename),
        line=frame.lineno,
    )
    for port in module.inputs:
        if not port.optional and step.bindings.get(port.name, NONE).kind == "none":
            raise SpecError(
                f"required input '{port.name}' of '{module.name}' is not bound",
                file=frame.filename,
                line=frame.lineno,
                fix=f"pass {port.name}=<path or node.outputs.x>",
            )
    build.steps[name] = step
    return Node(name, _Outputs(name, {o.name: OutputRef(name, o.name) for o in module.outputs}))


class PipelineFunction:
    """What ``@amlrun.pipeline`` returns: call it to build a Pipeline (or a nested node)."""

    def __init__(self, fn: Any, name: str | None, options: dict[str, Any]) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        self.options = options
        self.source = Path(inspect.getsourcefile(fn) or "pipeline.py").resolve()

    def _collect(self, build: _Build, args: tuple, kwargs: dict) -> dict[str, OutputRef]:
        token = _current.set(build)
        try:
            returned = self.fn(*args, **kwargs)
        finally:
            _current.reset(token)
        if returned is None:
            return {}
        if not isinstance(returned, dict) or not all(
            isinstance(v, OutputRef) for v in returned.values()
        ):
            raise SpecError(
                f"pipeline function {self.name} must return a dict of node outputs",
                file=self.source,
                fix="return {'name': node.outputs.x}",
            )
        return returned

    def __call__(self, *args: Any, **kwargs: Any) -> Pipeline | Node:
        outer = _current.get()
        if outer is not None:  # nested: flatten into the outer pipeline
            prefix = outer.unique(self.name) + "/"
            inner = _Build(prefix, self.source)
            returned = self._collect(inner, args, kwargs)
            outer.steps.update(inner.steps)
            return Node(prefix[:-1], _Outputs(prefix[:-1], returned))
        from amlrun.pipelines.graph import order_steps

        build = _Build("", self.source)
        returned = self._collect(build, args, kwargs)
        sig = inspect.signature(self.fn).bind_partial(*args, **kwargs)
        sig.apply_defaults()
        return Pipeline(
            name=self.name,
            source=self.source,
            steps=order_steps(build.steps, self.source),
            outputs={k: PipelineOutput(v.step, v.output) for k, v in returned.items()},
            inputs=dict(sig.arguments),
            force_rerun=bool(self.options.get("force_rerun", False)),
            continue_on_step_failure=self.options.get("continue_on_step_failure", True)
            is not False,
            default_compute=self.options.get("default_compute"),
        )


def pipeline(name: str | None = None, **options: Any):
    """Decorator: ``@amlrun.pipeline(name=..., default_compute=...)``."""
    if callable(name):  # used bare: @amlrun.pipeline
        return PipelineFunction(name, None, {})

    def wrap(fn: Any) -> PipelineFunction:
        return PipelineFunction(fn, name, options)

    return wrap


def pipeline_from_file(path: Path, overrides: dict[str, Any]) -> Pipeline:
    """Import a .py file and build its (last defined) ``@amlrun.pipeline`` with ``overrides``."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(f"amlrun_user_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(path.parent))
    found = [v for v in vars(mod).values() if isinstance(v, PipelineFunction)]
    if not found:
        raise SpecError(
            "no @amlrun.pipeline function in this file",
            file=path,
            fix="decorate the pipeline function with @amlrun.pipeline()",
        )
    # outer pipelines are defined after the ones they nest: the last one is the pipeline
    fn = max(found, key=lambda f: f.fn.__code__.co_firstlineno)
    params = inspect.signature(fn.fn).parameters
    unknown = set(overrides) - set(params)
    if unknown:
        raise SpecError(
            f"pipeline function {fn.name} has no input '{sorted(unknown)[0]}'",
            file=path,
            fix="use one of: " + ", ".join(params),
        )
    built = fn(**overrides)
    assert isinstance(built, Pipeline)
    return built
