"""Pieces shared by the spec loaders: interface entries, environments, includes, checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amlrun.errors import Diagnostics, SpecError, line_of
from amlrun.spec import yamlio
from amlrun.spec.model import (
    PARAM_TYPE_ALIASES,
    Command,
    Environment,
    Parameter,
    Port,
)
from amlrun.spec.porttypes import check_port_type
from amlrun.spec.shape import sequence, usable_path

PRIMITIVE_V2 = {"string", "number", "integer", "boolean"}
INPUT_KEYS = {
    "type",
    "description",
    "default",
    "optional",
    "min",
    "max",
    "enum",
    "mode",
    "path",
    "display_name",
    "label",
    "options",
    "name",
    "port",
    "argumentName",
    "columnPickerFor",
    "singleColumnSelection",
    "is_resource",
    "datastore_mode",
    "is_control",
}


def param_type(type_: Any) -> str | None:
    """The canonical parameter type for a declared type, or None for a data port."""
    if isinstance(type_, str):
        return PARAM_TYPE_ALIASES.get(type_.strip().lower())
    return None


def port_type(
    type_: Any, *, file: Path | None = None, line: int | None = None, field: str = "type"
) -> str:
    """A port's type as text (a list of allowed types joins with '|'); typos are errors."""
    text = (
        "|".join(str(t) for t in type_) if isinstance(type_, list) else str(type_ or "uri_folder")
    )
    check_port_type(text, file=file, line=line, field=field)
    return text


def number(value: Any, *, file: Path, line: int | None, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise SpecError(
                f"'{value}' is not a number", file=file, line=line, field=field
            ) from None
    return value


def make_input(
    name: str,
    spec: dict,
    *,
    file: Path,
    diags: Diagnostics,
    where: str,
    enum_key: str = "enum",
) -> Port | Parameter:
    """One entry of a dict-style ``inputs`` (sdk-2.0 and v2): a port or a parameter."""
    if not isinstance(spec, dict):
        spec = {"type": spec}
    diags.unknown_keys(spec, INPUT_KEYS, file=file, where=where)
    ptype = param_type(spec.get("type"))
    optional = bool(spec.get("optional", False))
    desc = str(spec.get("description") or "")
    if ptype is None:
        kind = port_type(spec.get("type"), file=file, line=line_of(spec, "type"), field=where)
        return Port(name, kind, optional, desc)
    options = sequence(spec, enum_key, file=file, where=where) or sequence(
        spec, "enum", file=file, where=where
    )
    if options and ptype == "string":
        ptype = "enum"
    line = line_of(spec)
    return Parameter(
        name=name,
        type=ptype,
        default=default_for(spec.get("default"), ptype),
        optional=optional,
        description=desc,
        min=number(spec.get("min"), file=file, line=line, field=f"{where}.min"),
        max=number(spec.get("max"), file=file, line=line, field=f"{where}.max"),
        enum=tuple(str(o) for o in options),
    )


def default_for(value: Any, ptype: str) -> Any:
    if value is None:
        return None
    if ptype in ("string", "enum") and not isinstance(value, str):
        from amlrun.spec.params import format_enum

        return format_enum(value)
    return value


def check_interface_refs(
    command: Command,
    ports: list[Port],
    params: list[Parameter],
    outputs: list[Port],
    *,
    file: Path,
    line: int | None,
    diags: Diagnostics,
) -> None:
    """Check ``command``'s placeholders against a module's declared interface.

    Inputs, parameters and outputs share one namespace in a command (``${{inputs.x}}`` and
    ``${{outputs.x}}`` both fill from the name ``x``), so a name used twice is refused: one
    port would silently receive the other's path.
    """
    shared = sorted(
        ({p.name for p in ports} | {p.name for p in params}) & {o.name for o in outputs}
    )
    if shared:
        raise SpecError(
            f"'{shared[0]}' is both an input and an output of this module",
            file=file,
            field=f"outputs.{shared[0]}",
            fix=f"rename the output (e.g. '{shared[0]}_out') or the input",
        )
    optional = {p.name for p in ports if p.optional} | {
        p.name for p in params if p.optional and p.default is None
    }
    names = {p.name for p in ports} | {p.name for p in params}
    check_refs(
        command,
        names,
        {o.name for o in outputs},
        file=file,
        line=line,
        diags=diags,
        optional=optional,
    )


def check_refs(
    command: Command,
    names: set[str],
    outputs: set[str],
    *,
    file: Path,
    line: int | None,
    diags: Diagnostics,
    optional: set[str],
) -> None:
    """Every placeholder must name a declared input/output (inside a group: a warning)."""
    from amlrun.spec.model import Group, Ref

    def walk(items: tuple, in_group: bool) -> None:
        for it in items:
            if isinstance(it, Group):
                walk(it.items, True)
                continue
            if not isinstance(it, Ref):
                continue
            known = outputs if it.kind == "output" else names
            if it.name in known:
                if it.kind == "input" and not in_group and it.name in optional:
                    diags.warn(
                        f"optional input '{it.name}' is used outside an optional group; "
                        "the command fails when it has no value",
                        file=file,
                        line=line,
                        field="command",
                    )
                continue
            declared = ", ".join(sorted(known)) or "none"
            msg = f"placeholder refers to undeclared {it.kind} '{it.name}'"
            if in_group:
                diags.warn(
                    msg + "; its optional group is always dropped",
                    file=file,
                    line=line,
                    field="command",
                )
            else:
                raise SpecError(
                    msg,
                    file=file,
                    line=line,
                    field="command",
                    fix=f"declare it under {it.kind}s, or use one of: {declared}",
                )

    walk(command.items, False)


def read_conda(path: Path, *, file: Path, line: int | None, field: str) -> dict | None:
    """A conda file's content, or None when the file is absent (reported when it runs)."""
    from amlrun.spec.reads import record

    usable_path(path, file=file, line=line, field=field)
    record(path)
    if not path.is_file():
        return None
    data = yamlio.load(path)
    if not isinstance(data, dict):
        raise SpecError("conda file is not a mapping", file=path, fix="see conda's env format")
    return _plain(data)


def _plain(obj: Any) -> Any:
    """Strip line metadata so environment definitions hash and compare as plain data."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_plain(v) for v in obj]
    return obj


def conda_environment(
    conda: dict | None, conda_file: str | None, image: str | None, missing_file: Path | None
) -> Environment:
    """An environment from an optional image and an optional conda spec."""
    if missing_file is not None and conda is None:
        conda = {"missing_file": str(missing_file)}
    if image:
        return Environment(kind="image", image=image, conda=conda, conda_file=conda_file)
    if conda is not None:
        return Environment(kind="conda", conda=conda, conda_file=conda_file)
    return Environment()


def include_name(raw: str) -> str:
    """Where an additional include lands: its basename, or merged into the root for '..'."""
    parts = [p for p in raw.replace("\\", "/").split("/") if p]
    if not parts or parts[-1] in ("..", "."):
        return ""
    return parts[-1]


def sidecar_includes(spec_path: Path) -> list[str]:
    """``<spec basename>.additional_includes``: one path per line, '#' comments allowed."""
    from amlrun.spec.reads import record

    side = spec_path.with_suffix(".additional_includes")
    record(side)
    if not side.is_file():
        return []
    lines = side.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
