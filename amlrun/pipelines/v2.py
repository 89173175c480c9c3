"""v2 pipeline jobs and pipeline components (and the 2021 preview syntax)."""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

from amlrun.errors import Diagnostics, SpecError, line_of
from amlrun.pipelines.model import Binding, Step
from amlrun.pipelines.node import (
    EXPR,
    check_identifiers,
    resolve_compute,
)
from amlrun.pipelines.sweep import bind_search_space, parse_sweep
from amlrun.pipelines.v2_bindings import Binder
from amlrun.pipelines.v2_modules import module_for
from amlrun.pipelines.v2_schema import (
    CLOUD,
    MAX_STEPS,
    NODE_KEYS,
    PARENT_OUTPUT,
    PIPELINE_KEYS,
    REMOTE,
    SETTINGS_KEYS,
)
from amlrun.pipelines.validate import check_bindings, check_declared_input, check_overrides
from amlrun.registry.resolve import RegistryResolver
from amlrun.spec import yamlio
from amlrun.spec.model import Module
from amlrun.spec.shape import check_names, local_path, mapping

#: (effective inputs, promoted outputs, pipeline output specs, settings) of one pipeline
_Loaded = tuple[dict[str, Any], dict[str, tuple[str, str]], dict[str, dict], dict]


def _drive(outer: Generator[Generator, Any, _Loaded]) -> _Loaded:
    """Run a generator that yields sub-generators whose results it receives, iteratively.

    A sub-generator's exception is thrown into the one that yielded it, so ``try/finally``
    inside the loaders behaves as in plain calls.
    """
    stack: list[Generator] = [outer]
    sent: Any = None
    error: BaseException | None = None
    while True:
        try:
            inner = stack[-1].throw(error) if error is not None else stack[-1].send(sent)
        except StopIteration as stop:
            stack.pop()
            if not stack:
                return stop.value
            sent, error = stop.value, None
            continue
        except BaseException as exc:
            stack.pop()
            if not stack:
                raise
            sent, error = None, exc
            continue
        stack.append(inner)
        sent, error = None, None


class V2Loader:
    """Flattens one pipeline file (and the pipeline components it nests) into steps."""

    def __init__(
        self,
        diags: Diagnostics,
        module_cache: dict[Path, Module],
        resolver: RegistryResolver | None = None,
        *,
        definition: bool = False,
    ) -> None:
        self.diags = diags
        #: a pipeline component checked on its own: inputs without values are its caller's
        self.definition = definition
        self.modules = module_cache
        #: ``azureml:`` component and data references -> registered ones (amlrun.registry)
        self.resolver = resolver
        self.bind = Binder(resolver)
        self.steps: dict[str, Step] = {}
        #: "prefix/node" of a nested pipeline -> its outputs -> (inner step, output)
        self.aliases: dict[str, dict[str, tuple[str, str]]] = {}
        #: the pipeline files being loaded, outermost first: one seen again is a cycle
        self.including: list[Path] = []

    # ------------------------------------------------------------------ pipeline level
    def load(
        self,
        doc: dict,
        path: Path,
        overrides: dict[str, Any],
        prefix: str = "",
        parent: dict[str, Binding] | None = None,
    ) -> tuple[dict[str, Any], dict[str, tuple[str, str]], dict[str, dict], dict]:
        """Returns (effective inputs, promoted outputs, pipeline output specs, settings).

        Nested pipeline components are loaded as they are met, depth first, on an explicit
        stack (see ``_drive``), so nesting depth is bounded by memory, not the call stack.
        """
        return _drive(self._load(doc, path, overrides, prefix, parent))

    def _load(
        self,
        doc: dict,
        path: Path,
        overrides: dict[str, Any],
        prefix: str = "",
        parent: dict[str, Binding] | None = None,
    ) -> Generator[Generator, Any, _Loaded]:
        """``load`` as a generator: yields the load of each nested pipeline, gets its result."""
        self.diags.unknown_keys(doc, PIPELINE_KEYS, file=path)
        settings = mapping(doc, "settings", file=path)
        self.diags.unknown_keys(settings, SETTINGS_KEYS, file=path, where="settings")
        check_identifiers(doc, path)
        declared = mapping(doc, "inputs", file=path)
        inputs: dict[str, Binding] = {}
        for name, raw in declared.items():
            line = line_of(declared, name)
            if parent is not None:
                inputs[name] = parent.get(name) or self.bind.declared_default(raw, path, line)
            elif name in overrides:
                inputs[name] = self.bind.override(raw, overrides[name], path, line)
            else:
                inputs[name] = self.bind.declared_default(raw, path, line)
                if inputs[name].kind == "none":  # the caller's, or a value still to --set
                    inputs[name] = (
                        Binding("cloud", f"input '{name}' is given by the caller")
                        if self.definition
                        else Binding("none", str(name), line=line)
                    )
            check_declared_input(str(name), raw, inputs[name], file=path, line=line)
        if parent is None:
            check_overrides(overrides, declared, file=path, field="inputs")
        jobs = doc.get("jobs")
        if not isinstance(jobs, dict) or not jobs:
            raise SpecError(
                "the pipeline has no jobs",
                file=path,
                line=line_of(doc),
                field="jobs",
                fix="add jobs: {name: {component: ./x.yml, ...}}",
            )
        check_names(jobs, file=path, where="jobs")
        promoted: dict[str, tuple[str, str]] = {}
        default_compute = settings.get("default_compute") or doc.get("compute")
        for name, node in jobs.items():
            if not isinstance(node, dict):
                raise SpecError(
                    "a job must be a mapping",
                    file=path,
                    line=line_of(jobs, name),
                    field=f"jobs.{name}",
                    fix="give it component/command and inputs",
                )
            yield from self._node(str(name), node, path, prefix, inputs, promoted, default_compute)
        outputs_spec = {k: (v or {}) for k, v in mapping(doc, "outputs", file=path).items()}
        effective = {
            k: (b.value if b.kind in ("literal", "path", "cloud") else None)
            for k, b in inputs.items()
        }
        return effective, promoted, outputs_spec, settings

    # ------------------------------------------------------------------ nodes
    def _node(
        self,
        name: str,
        node: dict,
        path: Path,
        prefix: str,
        parent_inputs: dict[str, Binding],
        promoted: dict[str, tuple[str, str]],
        default_compute: str | None,
    ) -> Generator[Generator, Any, None]:
        qname = f"{prefix}{name}"
        line = getattr(node, "line", None)
        where = f"jobs.{name}"
        self.diags.unknown_keys(node, NODE_KEYS, file=path, where=where)
        ntype = str(node.get("type") or "command").lower()
        node_inputs = mapping(node, "inputs", file=path, where=where)
        node_outputs = mapping(node, "outputs", file=path, where=where)  # checked once here
        bindings = {
            k: self.bind.binding(v, path, prefix, parent_inputs, line_of(node_inputs, k))
            for k, v in node_inputs.items()
        }
        if ntype == "pipeline":
            yield from self._subpipeline(qname, node, path, bindings, line)
            self._promote(node, qname, path, promoted, sub=True)
            return
        module, blocked, sweep = None, None, None
        if ntype == "sweep":  # its trial component, run per sampled parameters
            sweep = parse_sweep(node, path, where)
            node = {**node, "component": node.get("trial")}
        if ntype in ("command", "component", "parallel", "sweep"):
            module, blocked = module_for(
                node,
                path,
                bindings,
                line,
                name,
                modules=self.modules,
                diags=self.diags,
                resolver=self.resolver,
            )
        else:
            blocked = f"'{ntype}' jobs run only on Azure ML"
        output_paths = {}
        for oname, ospec in node_outputs.items():
            if isinstance(ospec, dict) and ospec.get("path"):
                p = str(ospec["path"])
                if not p.startswith(CLOUD + REMOTE):
                    output_paths[oname] = os.path.abspath(path.parent / p)
        if module is not None and sweep is not None:
            sweep = bind_search_space(sweep, module, bindings, path, where)
            bindings = {k: b for k, b in bindings.items() if k not in dict(sweep.targets)}
        if module is not None:
            check_bindings(module, bindings, self.diags, file=path, where=where, line=line)
        limits = mapping(node, "limits", file=path, where=where)
        compute = resolve_compute(node.get("compute") or default_compute, parent_inputs, path, line)
        self._check_size(path, line, where)
        self.steps[qname] = Step(
            name=qname,
            module=module,
            bindings=bindings,
            source=path,
            line=line,
            compute=None if compute is None else str(compute),
            output_paths=output_paths,
            timeout_s=float(limits["timeout"])
            if isinstance(limits, dict) and limits.get("timeout")
            else None,
            env_vars={
                str(k): str(v)
                for k, v in mapping(node, "environment_variables", file=path, where=where).items()
            },
            blocked=blocked,
            sweep=sweep,
        )
        self._promote(node, qname, path, promoted, sub=False)

    def _check_size(self, path: Path, line: int | None, where: str) -> None:
        """Nested components multiply (10 jobs x 10 x 10 ...): refuse before planning stalls."""
        if len(self.steps) >= MAX_STEPS:
            raise SpecError(
                f"the pipeline expands to more than {MAX_STEPS:,} steps",
                file=path,
                line=line,
                field=where,
                fix="check which pipeline components include each other many times",
            )

    def _promote(self, node: dict, qname: str, path: Path, promoted: dict, sub: bool) -> None:
        for oname, ospec in (node.get("outputs") or {}).items():  # a mapping: see _node
            if isinstance(ospec, str):
                m = EXPR.fullmatch(ospec.strip())
                po = PARENT_OUTPUT.match(m.group(1)) if m else None
                if po is None:
                    raise SpecError(
                        f"cannot bind output to '{ospec}'",
                        file=path,
                        line=line_of(node.get("outputs"), oname),
                        field=f"jobs.{qname}.outputs.{oname}",
                        fix="use ${{parent.outputs.<name>}}",
                    )
                target = self.aliases[qname][oname] if sub else (qname, oname)
                promoted[po.group(1)] = target

    def _subpipeline(
        self, qname: str, node: dict, path: Path, bindings: dict[str, Binding], line
    ) -> Generator[Generator, Any, None]:
        comp = node.get("component")
        if isinstance(comp, str):
            ref = comp[5:] if comp.startswith("file:") else comp
            if ref.startswith(CLOUD):
                raise SpecError(
                    f"pipeline component {ref} is an Azure ML asset",
                    file=path,
                    line=line,
                    fix="reference the pipeline component file instead",
                )
            sub_path = local_path(
                path.parent, ref, file=path, line=line, field=f"jobs.{qname}.component"
            )
            if sub_path in self.including:
                chain = " -> ".join(p.name for p in (*self.including, sub_path))
                raise SpecError(
                    f"the pipeline includes itself ({chain})",
                    file=path,
                    line=line_of(node, "component"),
                    field=f"jobs.{qname}.component",
                    fix="a pipeline job must name another pipeline component file",
                )
            sub_doc = yamlio.load(sub_path)
        elif isinstance(comp, dict):
            sub_path, sub_doc = path, comp
        else:
            raise SpecError(
                "a pipeline job needs component: ./pipeline_component.yml",
                file=path,
                line=line,
                field=f"jobs.{qname}",
            )
        self.including.append(sub_path)
        try:
            _, promoted, _, _ = yield self._load(
                sub_doc, sub_path, {}, prefix=f"{qname}/", parent=bindings
            )
        finally:
            self.including.pop()
        self.aliases[qname] = promoted

    def resolve_aliases(self) -> None:
        """Rewrite references to a nested pipeline's outputs to the inner step producing them."""
        for qname, step in list(self.steps.items()):
            changed = False
            new = dict(step.bindings)
            for k, b in step.bindings.items():
                if b.kind == "step" and b.step in self.aliases:
                    inner = self.aliases[b.step].get(b.output)
                    if inner is None:
                        raise SpecError(
                            f"pipeline job '{b.step}' has no output '{b.output}'",
                            file=step.source,
                            line=b.line,
                            fix="promote it with ${{parent.outputs.x}} in the component",
                        )
                    new[k] = Binding("step", step=inner[0], output=inner[1], line=b.line)
                    changed = True
            if changed:
                from dataclasses import replace

                self.steps[qname] = replace(step, bindings=new)
