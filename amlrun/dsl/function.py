"""Modules from typed Python functions (``@amlrun.module`` / ``Module.from_func``).

Parameters annotated ``Input(...)`` become input ports, ``Output(...)`` output ports, and
plain ``int``/``float``/``str``/``bool`` parameters become typed parameters (their defaults
kept). The command runs the function through ``python -m amlrun.dsl.execute``, so the same
module can run locally, on a cluster, or be written out as a v2 component spec.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amlrun.errors import SpecError
from amlrun.spec.model import Code, Command, Environment, Group, Module, Parameter, Port, Ref, Text

_PY_TYPES = {int: "integer", float: "number", str: "string", bool: "boolean"}
_NAME_TYPES = {"int": "integer", "float": "number", "str": "string", "bool": "boolean"}


@dataclass(frozen=True)
class Input:
    """Annotation for a data input port: ``data: Input(type="uri_folder")``."""

    type: str = "uri_folder"
    optional: bool = False
    description: str = ""


@dataclass(frozen=True)
class Output:
    """Annotation for a data output port: ``model: Output(type="uri_folder")``."""

    type: str = "uri_folder"
    description: str = ""


def module_from_func(
    fn: Any,
    *,
    name: str | None = None,
    version: str | None = None,
    description: str | None = None,
    environment: Environment | str | None = None,
    code: str | Path | None = None,
    is_deterministic: bool = True,
) -> Module:
    source = Path(inspect.getsourcefile(fn) or "").resolve()
    root = Path(code).resolve() if code else source.parent
    try:
        rel = source.relative_to(root).as_posix()
    except ValueError:
        raise SpecError(
            f"{source} is not inside the code folder {root}",
            fix="pass code= a folder that contains the function's file",
        ) from None
    ports: list[Port] = []
    outputs: list[Port] = []
    params: list[Parameter] = []
    items: list = [
        Text("python"),
        Text("-m"),
        Text("amlrun.dsl.execute"),
        Text("--source"),
        Text(rel),
        Text("--name"),
        Text(fn.__name__),
    ]
    _interface(fn, source, ports, outputs, params, items)
    if isinstance(environment, str):
        from amlrun.errors import Diagnostics
        from amlrun.spec.component import environment_v2

        environment = environment_v2(environment, root, source, Diagnostics(), None)
    return Module(
        name=name or fn.__name__,
        version=version,
        command=_as_spec_command(Command("argv", tuple(items)), source),
        environment=environment or Environment(),
        code=Code(root=root),
        inputs=tuple(ports),
        outputs=tuple(outputs),
        parameters=tuple(params),
        description=description or inspect.getdoc(fn) or "",
        is_deterministic=is_deterministic,
        source=source,
        format="python",
        func=fn,
    )


def _as_spec_command(argv: Command, source: Path) -> Command:
    """The command as its written v2 spec loads it, so function and spec share a step key."""
    from amlrun.errors import Diagnostics
    from amlrun.spec.template import parse_shell
    from amlrun.spec.writer import command_text

    return parse_shell(command_text(argv), "v2", file=source, line=None, diags=Diagnostics())


def _interface(
    fn: Any, source: Path, ports: list, outputs: list, params: list, items: list
) -> None:
    """Ports, outputs and parameters from ``fn``'s annotated signature, and their arguments."""
    hints = _annotations(fn)
    for pname, p in inspect.signature(fn).parameters.items():
        ann = hints.get(pname, p.annotation)
        has_default = p.default is not inspect.Parameter.empty
        if isinstance(ann, Output):
            outputs.append(Port(pname, ann.type, False, ann.description))
            items += [Text(f"--{pname}"), Ref("output", pname)]
            continue
        if isinstance(ann, Input):
            optional = ann.optional or (has_default and p.default is None)
            ports.append(Port(pname, ann.type, optional, ann.description))
        else:
            ptype = _PY_TYPES.get(ann) or _NAME_TYPES.get(str(ann))
            if ptype is None:
                raise SpecError(
                    f"parameter '{pname}' of {fn.__name__} has no supported annotation",
                    file=source,
                    field=pname,
                    fix="annotate it with int, float, str, bool, Input() or Output()",
                )
            default = p.default if has_default else None
            params.append(Parameter(pname, ptype, default, has_default and default is None))
            optional = has_default and default is None
        arg = (Text(f"--{pname}"), Ref("input", pname))
        items += [Group(arg)] if optional else list(arg)


def _annotations(fn: Any) -> dict[str, Any]:
    """Resolved annotations (``from __future__ import annotations`` makes them strings)."""
    try:
        return inspect.get_annotations(fn, eval_str=True)
    except Exception:  # unresolvable names: fall back to the raw strings
        return dict(getattr(fn, "__annotations__", {}))


def module(**options: Any):
    """Decorator: ``@amlrun.module(name=..., version=...)`` on a typed function -> Module."""

    def wrap(fn: Any) -> Module:
        return module_from_func(fn, **options)

    return wrap
