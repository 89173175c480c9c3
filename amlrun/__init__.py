"""amlrun: run Azure ML modules and pipelines locally, incrementally.

Public API::

    amlrun.load_module(path)            -> Module   (v1 module spec, sdk-2.0, v2 component)
    amlrun.load_pipeline(path, **inputs) -> Pipeline (v2/v1 YAML or a .py with @pipeline)
    amlrun.module(...)                   decorator: a typed function -> Module
    amlrun.pipeline(...)                 decorator: a pipeline function (DSL)
    amlrun.run(pipeline, ...)           -> RunResult
    Module.run(**inputs_and_params)     -> ModuleResult
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from amlrun.collector import paused as _paused

with _paused():  # importing builds only long-lived objects (amlrun/collector.py)
    from amlrun.spec import behaviour as _behaviour
    from amlrun.version import __version__

if TYPE_CHECKING:
    from amlrun.engine.runner import RunResult
    from amlrun.pipelines.model import Pipeline
    from amlrun.spec.model import Module

__all__ = [
    "Input",
    "Output",
    "__version__",
    "load_module",
    "load_pipeline",
    "module",
    "pipeline",
    "run",
]


def load_module(
    path: Any = None,
    *,
    name: str | None = None,
    namespace: str | None = None,
    version: str | None = None,
) -> Module:
    """A spec file, or a registered module: ``"azureml:name:1"``, ``"azureml:name@label"``,
    or ``name=`` with ``namespace=`` and ``version=`` as v1's ``Module.load(ws, ns, name)``
    (the default version when ``version`` is left out)."""
    from dataclasses import replace

    from amlrun.registry.resolve import is_registry_ref

    if name is not None:
        full = f"{namespace}/{name}" if namespace else name
        path = f"azureml:{full}:{version}" if version else f"azureml:{full}"

    if isinstance(path, str) and is_registry_ref(path):
        from amlrun.registry.resolve import RegistryResolver
        from amlrun.workspace import Workspace

        resolver = RegistryResolver(Workspace.find().config)
        module = resolver.module(path)
        return replace(module, environment=resolver.environment(module.environment))
    from amlrun.spec.load import load_module as _load

    return _load(path)


def load_pipeline(path: Any, **inputs: Any) -> Pipeline:
    from amlrun.loading import load_pipeline as _load
    from amlrun.workspace import Workspace

    return _load(path, inputs, config=Workspace.find().config)


def run(
    pipeline: Pipeline,
    *,
    jobs: int = 1,
    store: str | None = None,
    backend: str | None = None,
    force: tuple[str, ...] = (),
    quiet: bool = False,
    force_output: bool = False,
) -> RunResult:
    """Run a pipeline incrementally; returns per-step outcomes (ran/reused/failed/...).

    ``force_output`` replaces ``path:`` destinations holding files amlrun did not write.
    """
    from amlrun.cache.store import open_store
    from amlrun.engine.report import Reporter
    from amlrun.engine.runner import Engine
    from amlrun.workspace import Workspace

    ws = Workspace.find()
    engine = Engine(
        pipeline,
        workspace=ws,
        store=open_store(store or ws.config.get("store"), ws.root, link=ws.config.get("link")),
        backend=backend,
        jobs=jobs,
        force=force,
        reporter=Reporter(quiet=quiet),
        force_output=force_output,
    )
    return engine.run()


def _run_module(module: Module, values: Any) -> Any:
    from amlrun.runs.module_run import run_module

    return run_module(module, values)


def _call_module(module: Module, bindings: dict[str, Any]) -> Any:
    from amlrun.dsl.builder import call_module

    return call_module(module, bindings)


def _module_from_func(fn: Any, **options: Any) -> Module:
    from amlrun.dsl.function import module_from_func

    return module_from_func(fn, **options)


_behaviour.bind(
    run_module=_run_module,
    call_module=_call_module,
    module_from_func=_module_from_func,
    run_pipeline=run,
)


def __getattr__(name: str) -> Any:  # lazy: importing amlrun stays cheap
    if name in ("module", "Input", "Output"):
        from amlrun.dsl import function

        return getattr(function, name)
    if name == "pipeline":
        from amlrun.dsl.builder import pipeline

        return pipeline
    if name == "Module":
        from amlrun.spec.model import Module

        return Module
    raise AttributeError(name)
