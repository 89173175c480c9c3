"""A v2 pipeline job YAML of a Pipeline: components by relative path, bindings as values."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from amlrun.export.paths import job_name, own_spec, relative, spec_file
from amlrun.pipelines.model import Binding, Pipeline, Step
from amlrun.spec.writer import to_v2_yaml

SCHEMA = "https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json"


def _input(step: Step, name: str, b: Binding, dest_dir: Path) -> Any:
    if b.kind == "step":
        return f"${{{{parent.jobs.{job_name(b.step)}.outputs.{b.output}}}}}"
    if b.kind == "path":
        port = step.module.port(name) if step.module else None
        text = str(b.value)
        path = text if "://" in text else relative(text, dest_dir)
        return {"type": port.type if port else "uri_folder", "path": path}
    return b.value  # literal, or a cloud reference spelled as the source spelled it


def _outputs(p: Pipeline, step: Step, dest_dir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {
        o: {"path": relative(path, dest_dir)} for o, path in step.output_paths.items()
    }
    for name, po in p.outputs.items():
        if po.step == step.name:
            out[po.output] = f"${{{{parent.outputs.{name}}}}}"
    return out


def _component(step: Step, dest_dir: Path) -> str | dict[str, Any]:
    """A relative path to the step's spec file, or the module inline when it has none of its
    own (a v1 PythonScriptStep is declared inside its pipeline file)."""
    spec = spec_file(step)
    if own_spec(step):
        return relative(spec, dest_dir)
    doc = yaml.safe_load(to_v2_yaml(step.module))
    doc.pop("$schema", None)
    root = step.module.code.root
    if root is None:
        doc.pop("code")
    else:
        doc["code"] = relative(root, dest_dir)
    return doc


def _job(p: Pipeline, step: Step, dest_dir: Path) -> dict[str, Any]:
    if step.sweep is not None:  # its limits are the sweep's, not a step timeout
        trial = {"trial": _component(step, dest_dir), **step.sweep.as_node()}
        node = _job(p, replace(step, sweep=None, timeout_s=None), dest_dir)
        rest = {k: v for k, v in node.items() if k not in ("type", "component")}
        return {"type": "sweep", **rest, **trial}
    job: dict[str, Any] = {"type": step.module.kind if step.module else "command"}
    job["component"] = _component(step, dest_dir)
    inputs = {k: _input(step, k, b, dest_dir) for k, b in step.bindings.items() if b.kind != "none"}
    extras = {
        "inputs": inputs,
        "outputs": _outputs(p, step, dest_dir),
        "compute": step.compute if step.compute != p.default_compute else None,
        "environment_variables": step.env_vars,
        "limits": {"timeout": int(step.timeout_s)} if step.timeout_s else None,
    }
    return {**job, **{k: v for k, v in extras.items() if v}}


def pipeline_document(p: Pipeline, dest_dir: Path) -> dict[str, Any]:
    """The job document as plain data (the YAML writer and the tests share it)."""
    settings = {
        "default_compute": p.default_compute,
        "continue_on_step_failure": p.continue_on_step_failure,
        "force_rerun": p.force_rerun or None,
    }
    outputs = {
        name: {"type": _output_type(p, po.step, po.output)} for name, po in p.outputs.items()
    }
    for name, po in p.outputs.items():
        if po.path:
            outputs[name]["path"] = relative(po.path, dest_dir)
    doc = {
        "$schema": SCHEMA,
        "type": "pipeline",
        "display_name": p.name,
        "settings": {k: v for k, v in settings.items() if v is not None},
        "outputs": outputs,
        "jobs": {job_name(s.name): _job(p, s, dest_dir) for s in p.steps.values()},
    }
    return {k: v for k, v in doc.items() if v}


def _output_type(p: Pipeline, step: str, output: str) -> str:
    module = p.steps[step].module
    port = module.output(output) if module else None
    return port.type if port else "uri_folder"


def pipeline_yaml(p: Pipeline, dest_dir: Path) -> str:
    return yaml.safe_dump(pipeline_document(p, dest_dir), sort_keys=False, allow_unicode=True)
