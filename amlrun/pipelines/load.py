"""Load a pipeline from v2 or v1 YAML (``amlrun.loading`` dispatches Python files to dsl/)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amlrun.errors import Diagnostics, SpecError
from amlrun.pipelines.graph import order_steps
from amlrun.pipelines.model import Pipeline, PipelineOutput

if TYPE_CHECKING:
    from amlrun.registry.resolve import RegistryResolver


def load_yaml_pipeline(
    path: str | Path,
    overrides: dict[str, Any] | None = None,
    diags: Diagnostics | None = None,
    config: dict[str, Any] | None = None,
    cache_dir: Path | None = None,
    *,
    definition: bool = False,
) -> Pipeline:
    """``overrides`` are pipeline input values (``--set inputs.x=V``); with ``cache_dir``,
    an unchanged YAML pipeline is not parsed again (see plancache). A ``definition`` (a
    pipeline component checked on its own) may leave inputs to its caller."""
    path = Path(path).resolve()
    diags = diags if diags is not None else Diagnostics()
    overrides = overrides or {}
    config = config or {}
    from amlrun.pipelines.plancache import cached

    def build() -> tuple[Pipeline, list]:  # its imports are skipped when the cache answers
        from amlrun.pipelines.share import share_equal_parts
        from amlrun.registry.resolve import RegistryResolver

        resolver = RegistryResolver(config)
        fresh = Diagnostics()
        loaded = share_equal_parts(
            resolved(_load_yaml(path, overrides, fresh, config, resolver, definition), resolver)
        )
        for step in loaded.steps.values():  # hashed once, then kept in the cached plan
            if step.module is not None:
                step.module.identity_hash  # noqa: B018
        return loaded, fresh.warnings

    key = {
        "path": str(path),
        "overrides": overrides,
        "datastores": config.get("datastores"),
        "datasets": config.get("datasets"),
        "environments": config.get("environments"),
        "registry": config.get("registry"),
        "cwd": os.getcwd(),
        "definition": definition,
    }
    pipeline, warnings = cached(cache_dir, key, build)
    for w in warnings:
        diags.warnings.append(w)
    return pipeline


def resolved(pipeline: Pipeline, resolver: RegistryResolver) -> Pipeline:
    """Registered environments and data types applied, connections checked."""
    from amlrun.pipelines.connections import check_connections

    return check_connections(resolve_environments(pipeline, resolver), resolver.datatypes)


def resolve_environments(pipeline: Pipeline, resolver: RegistryResolver) -> Pipeline:
    """Every step's ``azureml:`` environment replaced by its registered definition."""
    steps = {}
    for name, step in pipeline.steps.items():
        m = step.module
        env = resolver.environment(m.environment) if m is not None else None
        changed = m is not None and env is not m.environment
        steps[name] = replace(step, module=replace(m, environment=env)) if changed else step
    return replace(pipeline, steps=steps)


def _load_yaml(
    path: Path,
    overrides: dict,
    diags: Diagnostics,
    config: dict,
    resolver: RegistryResolver,
    definition: bool,
) -> Pipeline:
    from amlrun.pipelines.job_sets import split_job_sets
    from amlrun.spec import yamlio
    from amlrun.spec.detect import kind_of

    doc = yamlio.load(path)
    kind = kind_of(doc, path)
    overrides, job_sets = split_job_sets(overrides)
    if kind != "pipeline":
        raise SpecError(
            f"not a pipeline (looks like: {kind})",
            file=path,
            fix="give a v2 pipeline job (type: pipeline, jobs:) or a v1 pipeline YAML "
            "(pipeline: {steps:})",
        )
    if isinstance(doc.get("pipeline"), dict):
        return _v1_pipeline(doc, path, overrides, job_sets, diags, config, resolver)
    return _v2_pipeline(doc, path, overrides, job_sets, diags, resolver, definition)


def _v1_pipeline(
    doc: dict,
    path: Path,
    overrides: dict,
    job_sets: dict,
    diags: Diagnostics,
    config: dict,
    resolver: RegistryResolver,
) -> Pipeline:
    from amlrun.pipelines.v1 import load_v1_pipeline

    if job_sets:
        raise SpecError(
            f"--set {next(iter(job_sets))}: a v1 pipeline has steps, not jobs",
            file=path,
            field="--set",
            fix="set a pipeline parameter: --set NAME=VALUE",
        )
    name, steps, inputs, compute = load_v1_pipeline(
        doc, path, overrides, diags, dict(config.get("datastores") or {}), resolver
    )
    return Pipeline(
        name=name,
        source=path,
        steps=order_steps(steps, path),
        inputs=inputs,
        default_compute=compute,
    )


def _v2_pipeline(
    doc: dict,
    path: Path,
    overrides: dict,
    job_sets: dict,
    diags: Diagnostics,
    resolver: RegistryResolver,
    definition: bool,
) -> Pipeline:
    from amlrun.pipelines.job_sets import apply_job_sets
    from amlrun.pipelines.v2 import V2Loader

    loader = V2Loader(diags, {}, resolver, definition=definition)
    loader.including.append(path)
    apply_job_sets(doc, job_sets, path)
    inputs, promoted, outputs_spec, settings = loader.load(doc, path, overrides)
    loader.resolve_aliases()
    outputs = {}
    for name, (step, output) in promoted.items():
        spec = outputs_spec.get(name) or {}
        p = spec.get("path") if isinstance(spec, dict) else None
        local = None
        if p and "://" not in str(p) and not str(p).startswith("azureml:"):
            local = os.path.abspath(path.parent / str(p))
        outputs[name] = PipelineOutput(step, output, local)
    return Pipeline(
        name=str(doc.get("name") or doc.get("display_name") or path.parent.name),
        source=path,
        steps=order_steps(loader.steps, path),
        outputs=outputs,
        inputs=inputs,
        force_rerun=bool(settings.get("force_rerun", False)),
        continue_on_step_failure=settings.get("continue_on_step_failure", True) is not False,
        default_compute=settings.get("default_compute") or doc.get("compute"),
    )
