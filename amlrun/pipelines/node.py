"""What a v2 pipeline node decides on top of its component: names, compute and overrides.

A node may set ``command``, ``code`` and ``environment`` next to ``component``; they replace
the component's before anything is keyed, so the module hash and the snapshot cover exactly
what runs. ``compute`` is resolved against the pipeline's inputs before it picks a backend.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from amlrun.errors import Diagnostics, SpecError, line_of
from amlrun.pipelines.model import Binding
from amlrun.spec.model import Code, Module
from amlrun.spec.names import check_name

EXPR = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
PARENT_INPUT = re.compile(r"^(?:parent\.)?inputs\.(.+)$")


def node_overrides(module: Module, node: dict, path: Path, diags: Diagnostics) -> Module:
    """``module`` with the node's own ``command``/``code``/``environment`` in its place."""
    if "command" in node:
        from amlrun.spec.common import check_interface_refs
        from amlrun.spec.template import parse_shell

        line = line_of(node, "command")
        command = parse_shell(str(node["command"]), "v2", file=path, line=line, diags=diags)
        check_interface_refs(
            command,
            list(module.inputs),
            list(module.parameters),
            list(module.outputs),
            file=path,
            line=line,
            diags=diags,
        )
        module = replace(module, command=command)
    if node.get("code") is not None:
        from amlrun.spec.reads import record

        root = (path.parent / str(node["code"])).resolve()
        record(root)
        missing = None if root.is_dir() else str(node["code"])
        module = replace(module, code=Code(root, module.code.includes, missing))
    if node.get("environment") is not None:
        from amlrun.spec.component import environment_v2

        line = line_of(node, "environment")
        env = environment_v2(node["environment"], path.parent, path, diags, line)
        module = replace(module, environment=replace(env, variables=module.environment.variables))
    if module.parallel is not None:
        from amlrun.spec.parallel import parallel_overrides

        module = replace(module, parallel=parallel_overrides(module.parallel, node))
    return module


def resolve_compute(raw: Any, parent_inputs: dict[str, Binding], path: Path, line) -> str | None:
    """A node's compute, ``${{parent.inputs.x}}`` resolved first: compute picks the backend."""
    if raw is None:
        return None
    m = EXPR.fullmatch(str(raw).strip())
    if m is None:
        return str(raw)
    value = parent_literal(m.group(1), parent_inputs)
    if value is None:
        raise SpecError(
            f"cannot resolve compute '{raw}'",
            file=path,
            line=line,
            field="compute",
            fix="bind compute to a string pipeline input (${{parent.inputs.x}}) or name it",
        )
    return value


def parent_literal(expr: str, parent_inputs: dict[str, Binding]) -> str | None:
    """The literal value ``parent.inputs.x`` (the inside of ``${{...}}``) holds, else None."""
    pi = PARENT_INPUT.match(expr)
    b = parent_inputs.get(pi.group(1)) if pi else None
    return None if b is None or b.kind != "literal" else str(b.value)


def check_identifiers(doc: dict, path: Path) -> None:
    """Pipeline, port and job names follow the v2 identifier rules (they become paths)."""
    if doc.get("name") is not None:
        check_name(str(doc["name"]), "pipeline", file=path, line=line_of(doc, "name"), field="name")
    for section in ("inputs", "outputs"):
        ports = doc.get(section)
        # a section of the wrong shape, or a name that is not text, is spec.shape's to report
        for name in ports if isinstance(ports, dict) else ():
            if not isinstance(name, str):
                continue
            line = line_of(ports, name)
            check_name(str(name), "port", file=path, line=line, field=f"{section}.{name}")
    jobs = doc.get("jobs")
    for name in jobs if isinstance(jobs, dict) else ():
        if not isinstance(name, str):
            continue
        check_name(str(name), "step", file=path, line=line_of(jobs, name), field=f"jobs.{name}")
