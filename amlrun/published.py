"""Publishing a pipeline: freeze every file it loads or runs, and run it later as frozen.

The frozen set is what loading the pipeline read (its YAML, component specs, conda files),
each step's snapshot and the local data its inputs bind, all relative to the workspace
root. A checkout of that tree loads to the same steps with the same keys, so a published
pipeline runs exactly as published however its source files change afterwards, and its
results are shared with runs of the unchanged source.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from amlrun.errors import SpecError
from amlrun.pipelines.model import Pipeline
from amlrun.registry.pipelines import (
    checkout_frozen,
    find_version,
    pipeline_registry,
    store_frozen,
)
from amlrun.registry.record import PipelineRecord
from amlrun.workspace import Workspace

LITERAL_TYPES = {"string", "number", "integer", "boolean"}
_ALIASES = {"int": "integer", "float": "number", "bool": "boolean", "str": "string"}  # v1


@dataclass(frozen=True)
class Published:
    record: PipelineRecord
    pipeline: Pipeline  # loaded from the frozen checkout


def publish(
    ws: Workspace,
    path: Path,
    name: str,
    version: str | None = None,
    description: str = "",
) -> tuple[PipelineRecord, bool]:
    """Freeze the pipeline at ``path`` as ``name`` (next integer version when none is given);
    (record, created): publishing unchanged content again is a no-op."""
    from amlrun.loading import load_pipeline
    from amlrun.spec.reads import recording

    path = Path(path).resolve()
    if path.suffix == ".py":
        raise SpecError(
            "only YAML pipelines can be published",
            file=path,
            fix="export it first: amlrun pipeline export PIPELINE --format yaml -o pipeline.yml",
        )
    with recording() as reads:
        pipeline = load_pipeline(path, config=ws.config)
    root = ws.root.resolve()
    files = {p: Path(p) for p in reads if os.path.isfile(p)}
    files.update(_step_files(pipeline))
    frozen = {_relative(p, root, path): f for p, f in files.items() if not _internal(p, ws)}
    return store_frozen(
        pipeline_registry(ws.root),
        frozen,
        _relative(str(path), root, path),
        interface_of(path),
        name=name,
        version=version,
        description=description,
        source=str(path),
    )


def _step_files(pipeline: Pipeline) -> dict[str, Path]:
    """Every snapshot file of every step and every file of the local data bound to one."""
    from amlrun.snapshot.tree import hash_path, take_snapshot

    found: dict[str, Path] = {}
    for step in pipeline.steps.values():
        if step.module is not None and step.module.code.missing is None:
            found.update({f.source: f.abspath for f in take_snapshot(step.module.code).files})
        for binding in step.bindings.values():
            if binding.kind == "path" and "://" not in str(binding.value):
                top = os.path.abspath(str(binding.value))
                entries, _tree, is_file = hash_path(Path(top))
                rels = [""] if is_file else list(entries)
                found.update({os.path.join(top, r) if r else top: Path(top, r) for r in rels})
    return found


def _internal(path: str, ws: Workspace) -> bool:
    """amlrun's own state (registry generation files, checkouts) is not the pipeline's."""
    return Path(path).resolve().is_relative_to(ws.dir.resolve())


def _relative(path: str, root: Path, pipeline: Path) -> str:
    resolved = Path(os.path.abspath(path))
    if not resolved.is_relative_to(root):
        raise SpecError(
            f"{path} is outside the workspace {root}, so it cannot be published with it",
            file=pipeline,
            fix="move it into the workspace, or bind that input when submitting a run",
        )
    return resolved.relative_to(root).as_posix()


def interface_of(path: Path) -> dict[str, Any]:
    """The pipeline's parameters and data inputs: {"parameters"|"inputs": {name: {type,
    default}}}, read from its declared inputs (v2) or parameters (v1)."""
    from amlrun.spec import yamlio

    doc = yamlio.load(path)
    declared = doc.get("inputs") if isinstance(doc.get("inputs"), dict) else {}
    if isinstance(doc.get("pipeline"), dict):  # v1: pipeline.parameters
        declared = doc["pipeline"].get("parameters") or {}
    params: dict[str, Any] = {}
    inputs: dict[str, Any] = {}
    for name, raw in declared.items():
        spec = raw if isinstance(raw, dict) else {"default": raw}
        kind = str(spec.get("type") or "").lower() or _type_of(spec.get("default"))
        kind = _ALIASES.get(kind, kind)
        if kind in LITERAL_TYPES or kind == "any":
            params[str(name)] = {"type": kind, "default": spec.get("default")}
        else:
            inputs[str(name)] = {"type": kind, "default": spec.get("path")}
    return {"parameters": params, "inputs": inputs}


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string" if isinstance(value, str) else "any"


def resolve_published(
    ws: Workspace,
    name: str,
    version: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> Published:
    """The published version (default: the endpoint's default), loaded from its checkout;
    ``overrides`` are pipeline input values. Output paths written in the YAML are dropped:
    a run of a frozen pipeline never writes into its checkout (outputs stay in the store)."""
    from amlrun.loading import load_pipeline

    registry = pipeline_registry(ws.root)
    record = find_version(registry, name, version)
    path = checkout_frozen(registry, record, ws.dir)
    pipeline = load_pipeline(path, overrides, config=ws.config, cache_dir=ws.dir / "plans")
    outputs = {k: replace(o, path=None) for k, o in pipeline.outputs.items()}
    steps = {k: replace(s, output_paths={}) for k, s in pipeline.steps.items()}
    return Published(record, replace(pipeline, outputs=outputs, steps=steps))
