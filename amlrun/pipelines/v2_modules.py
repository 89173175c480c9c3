"""The module each v2 pipeline node runs: a component file (loaded once per file), an inline
component, or a command written on the node itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amlrun.errors import Diagnostics, SpecError, line_of
from amlrun.pipelines.model import Binding
from amlrun.pipelines.node import node_overrides
from amlrun.pipelines.v2_schema import CLOUD
from amlrun.registry.layered import NotRegistered
from amlrun.registry.refs import is_registry_ref
from amlrun.registry.resolve import RegistryResolver
from amlrun.spec.model import Module
from amlrun.spec.shape import local_path


def module_for(
    node: dict,
    path: Path,
    bindings: dict[str, Binding],
    line: int | None,
    name: str,
    *,
    modules: dict[Path, Module],
    diags: Diagnostics,
    resolver: RegistryResolver | None = None,
) -> tuple[Module | None, str | None]:
    """The module a command/parallel node runs, or None and why it cannot run here."""
    comp = node.get("component")
    if isinstance(comp, str):
        ref = comp[5:] if comp.startswith("file:") else comp
        if ref.startswith(CLOUD) and resolver is not None and is_registry_ref(ref):
            module = _registered(resolver, ref, path, node, name)
            if isinstance(module, str):
                return None, module
            return node_overrides(module, node, path, diags), None
        if ref.startswith(CLOUD):
            return None, f"component {ref} is an Azure ML asset; no local copy is registered"
        spec = local_path(path.parent, ref, file=path, line=line, field=f"jobs.{name}.component")
        if spec not in modules:
            from amlrun.spec.load import load_module
            from amlrun.spec.reads import record

            record(spec)
            if not spec.is_file():
                raise SpecError(
                    f"component file {ref} does not exist",
                    file=path,
                    line=line_of(node, "component"),
                    field=f"jobs.{name}.component",
                    fix="fix the path (relative to the pipeline file)",
                )
            modules[spec] = load_module(spec, diags)
        return node_overrides(modules[spec], node, path, diags), None
    if isinstance(comp, dict):
        from amlrun.spec.component import load_component

        module = load_component(comp, path, diags, base=path.parent)
        return node_overrides(module, node, path, diags), None
    if str(node.get("type") or "").lower() == "parallel":
        from amlrun.spec.component import load_component

        inputs, outputs = declare(node, bindings)
        for k, spec in (node.get("inputs") or {}).items():  # mltable input: DataFrame batches
            if isinstance(spec, dict) and spec.get("type") and k in inputs:
                inputs[k] = {**inputs[k], "type": spec["type"]}
        return load_component(
            {**node, "inputs": inputs, "outputs": outputs},
            path,
            Diagnostics(),
            base=path.parent,
        ), None
    if "command" in node:
        return inline_module(node, path, bindings, name, diags), None
    raise SpecError(
        "the job has neither component nor command",
        file=path,
        line=line,
        field=f"jobs.{name}",
        fix="add component: ./x.yml or command: ...",
    )


def _registered(
    resolver: RegistryResolver, ref: str, path: Path, node: dict, name: str
) -> Module | str:
    """The registered module, or why the step cannot run (not registered: it still loads)."""
    try:
        return resolver.module(ref)
    except NotRegistered as exc:
        return f"component {ref} is an Azure ML asset; {exc}"
    except SpecError as exc:
        if exc.file is not None:
            raise
        raise SpecError(
            exc.message,
            file=path,
            line=line_of(node, "component"),
            field=f"jobs.{name}.component",
            fix=exc.fix,
        ) from None


def declare(node: dict, bindings: dict[str, Binding]) -> tuple[dict, dict]:
    """Interface declarations inferred from an inline node's bound values."""
    inputs: dict[str, Any] = {}
    for k, b in bindings.items():
        if b.kind in ("step", "path", "cloud"):
            inputs[k] = {"type": "uri_folder"}
        else:
            v = b.value
            t = (
                "boolean"
                if isinstance(v, bool)
                else "integer"
                if isinstance(v, int)
                else "number"
                if isinstance(v, float)
                else "string"
            )
            inputs[k] = {"type": t, "optional": b.kind == "none"}
    outputs = {}
    for k, spec in (node.get("outputs") or {}).items():  # a mapping: see V2Loader.node
        t = spec.get("type") if isinstance(spec, dict) else None
        outputs[k] = {"type": t or "uri_folder"}
    return inputs, outputs


def inline_module(
    node: dict, path: Path, bindings: dict[str, Binding], name: str, diags: Diagnostics
) -> Module:
    """A command written directly on a pipeline node (no component)."""
    from amlrun.spec.component import load_component

    inputs, outputs = declare(node, bindings)
    doc = {
        "type": "command",
        "name": name,
        "command": node["command"],
        "inputs": inputs,
        "outputs": outputs,
        "code": node.get("code"),
        "environment": node.get("environment"),
        "is_deterministic": node.get("is_deterministic", True),
    }
    doc = {k: v for k, v in doc.items() if v is not None}
    m = load_component(doc, path, diags, base=path.parent)
    if "code" not in node:  # no code: the command runs in an empty folder, as on Azure ML
        from dataclasses import replace

        from amlrun.spec.model import Code

        m = replace(m, code=Code(root=None))
    return m
