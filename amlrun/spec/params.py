"""Parameter and input values: defaults, conditions, coercion and range checks.

Values come from the CLI (strings) or the API (Python values); both are coerced to the
declared type so that ``--param n=5`` and ``n=5`` give the same step key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from amlrun.errors import SpecError
from amlrun.spec.model import Module, Parameter

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def coerce(param: Parameter, value: Any, *, file: object = None) -> Any:
    """Coerce ``value`` to ``param``'s type and check its range; raise a SpecError if not."""

    def bad(allowed: str) -> SpecError:
        return SpecError(
            f"parameter '{param.name}' got {value!r}; allowed: {allowed}",
            file=file,
            field=f"inputs.{param.name}",
            fix=f"pass a valid value, e.g. --param '{param.name}={_example(param)}'",
        )

    t = param.type
    if t == "boolean":
        if isinstance(value, bool):
            out: Any = value
        elif str(value).strip().lower() in _TRUE:
            out = True
        elif str(value).strip().lower() in _FALSE:
            out = False
        else:
            raise bad("true or false")
    elif t == "integer":
        if isinstance(value, bool):
            raise bad("an integer")
        try:
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                out = int(value)
            else:
                out = int(str(value).strip())
        except ValueError:
            raise bad(f"an integer{_range(param)}") from None
    elif t == "number":
        if isinstance(value, bool):
            raise bad("a number")
        if isinstance(value, (int, float)):
            out = value
        else:
            text = str(value).strip()
            try:
                out = int(text)
            except ValueError:
                try:
                    out = float(text)
                except ValueError:
                    raise bad(f"a number{_range(param)}") from None
    elif t == "enum":
        text = format_enum(value)
        if param.enum and text not in param.enum:
            raise bad("one of " + ", ".join(repr(o) for o in param.enum))
        out = text
    else:
        out = value if isinstance(value, str) else format_enum(value)
    if t in ("integer", "number"):
        if param.min is not None and out < param.min:
            raise bad(f"a value >= {param.min}{_range(param)}")
        if param.max is not None and out > param.max:
            raise bad(f"a value <= {param.max}{_range(param)}")
    return out


def format_enum(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _range(p: Parameter) -> str:
    if p.min is None and p.max is None:
        return ""
    lo = "" if p.min is None else f"{p.min} <= "
    hi = "" if p.max is None else f" <= {p.max}"
    return f" ({lo}value{hi})"


def _example(p: Parameter) -> str:
    if p.default is not None:
        return format_enum(p.default)
    if p.enum:
        return p.enum[0]
    return {"integer": "1", "number": "0.5", "boolean": "true"}.get(p.type, "text")


def resolve_params(
    module: Module, given: Mapping[str, Any], *, file: object = None
) -> dict[str, Any]:
    """Every parameter's effective value (None: no value); inactive sub-parameters are None."""
    unknown = [k for k in given if module.parameter(k) is None and module.port(k) is None]
    if unknown:
        names = ", ".join(repr(p.name) for p in module.parameters) or "none"
        raise SpecError(
            f"module '{module.name}' has no parameter or input '{unknown[0]}'",
            file=file or module.source,
            fix=f"use one of its parameters: {names}",
        )
    values: dict[str, Any] = {}
    for p in module.parameters:  # parents come before their sub-parameters
        active = all(values.get(c.parameter) == c.value for c in p.active_when)
        raw = given.get(p.name)
        if not active:
            if raw is not None:
                cond = " and ".join(f"'{c.parameter}' is '{c.value}'" for c in p.active_when)
                raise SpecError(
                    f"parameter '{p.name}' only applies when {cond}",
                    file=file or module.source,
                    field=f"inputs.{p.name}",
                    fix=f"set {cond.replace(' is ', '=')} too, or drop '{p.name}'",
                )
            values[p.name] = None
            continue
        if raw is None:
            raw = p.default
        if raw is None:
            values[p.name] = None
            continue
        values[p.name] = coerce(p, raw, file=file or module.source)
    return values


def missing_required(module: Module, values: Mapping[str, Any]) -> list[str]:
    """Names of active, non-optional parameters still without a value."""
    out = []
    for p in module.parameters:
        active = all(values.get(c.parameter) == c.value for c in p.active_when)
        if active and not p.optional and values.get(p.name) is None:
            out.append(p.name)
    return out
