"""Data port types: a misspelt one (``uri_foldr``) is an error with the likely type.

Loading leaves types that resemble no known one alone: v1 modules declare their own data
types, and a custom type is not a typo. Where the registries are known (a pipeline's plan,
``module validate``/``run``) an unregistered one is an error, and a registered one gives
its port its kind.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from amlrun.errors import SpecError
from amlrun.spec.datatypes import BUILTIN, Catalog, parts

if TYPE_CHECKING:
    from amlrun.spec.model import Module, Port

KNOWN_PORT_TYPES = tuple(t.name for t in BUILTIN.values())
_LOWER = {t.lower(): t for t in KNOWN_PORT_TYPES}


def check_port_type(type_: str, *, file: str | Path | None, line: int | None, field: str) -> None:
    """Raise for a type one or two letters away from a known type (never for a known one)."""
    for part in type_.split("|"):
        low = part.strip().lower()
        if low in _LOWER:
            continue
        import difflib  # only to suggest a type name: not at start-up

        close = difflib.get_close_matches(low, list(_LOWER), n=1, cutoff=0.8)
        if close:
            raise SpecError(
                f"unknown data type '{part}' (did you mean '{_LOWER[close[0]]}'?)",
                file=file,
                line=line,
                field=field,
                fix=f"write type: {_LOWER[close[0]]}",
            )


def typed_module(module: Module, catalog: Catalog, *, where: str = "") -> Module:
    """``module`` with each custom-typed port given its registered kind; unknown types raise."""

    def typed(port: Port, side: str) -> Port:
        names = parts(port.type)
        found = [catalog.get(n) for n in names]
        for n, t in zip(names, found):
            if t is None:
                raise SpecError(
                    f"{where}{side}.{port.name} has data type '{n}', which is not registered",
                    file=module.source,
                    field=f"{side}.{port.name}.type",
                    fix=f"amlrun datatype register {n} --parent AnyDirectory "
                    "(or --file --parent AnyFile; amlrun datatype list shows the built-ins)",
                )
        custom = [t for n, t in zip(names, found) if t and n.lower() not in BUILTIN]
        return replace(port, file=custom[0].is_file) if custom and len(names) == 1 else port

    inputs = tuple(typed(p, "inputs") for p in module.inputs)
    outputs = tuple(typed(p, "outputs") for p in module.outputs)
    if inputs == module.inputs and outputs == module.outputs:
        return module
    return replace(module, inputs=inputs, outputs=outputs)
