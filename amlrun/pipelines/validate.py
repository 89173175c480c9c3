"""Plan-time checks of a step's bindings against its module, with the pipeline file's line.

Found here rather than when the step runs: a bad parameter value used to surface only as a
failed step (exit 1, no line number), a FIFO bound as data blocked the key computation.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from amlrun.errors import Diagnostics, SpecError
from amlrun.pipelines.model import NONE, Binding, Step
from amlrun.spec.model import Module, Parameter
from amlrun.spec.shape import usable_path


def check_bindings(
    module: Module,
    bindings: dict[str, Binding],
    diags: Diagnostics,
    *,
    file: Path,
    where: str,
    line: int | None,
) -> None:
    """Undeclared inputs warn; wrong kinds, bad values and unusable data paths raise."""
    for k, b in bindings.items():
        field = f"{where}.inputs.{k}"
        at = b.line or line
        param, port = module.parameter(k), module.port(k)
        if param is None and port is None:
            names = ", ".join(module.input_names) or "none"
            diags.warn(
                f"component '{module.name}' declares no input '{k}'; the binding is ignored "
                f"(its inputs: {names})",
                file=file,
                line=at,
                field=field,
            )
        elif param is not None and b.kind in ("step", "path"):
            bound = f"output '{b.output}' of step '{b.step}'" if b.kind == "step" else "data"
            raise SpecError(
                f"parameter '{k}' ({param.type}) is bound to {bound}",
                file=file,
                line=at,
                field=field,
                fix="bind a value, or declare the input as a data type (uri_folder, uri_file)",
            )
        elif param is not None and b.kind == "literal" and b.value is not None:
            _check_value(param, b.value, file=file, line=at, field=field)
        elif port is not None and b.kind in ("literal", "path") and "://" not in str(b.value):
            check_data_path(str(b.value), file=file, line=at, field=field)
    for port in module.inputs:
        b = bindings.get(port.name, NONE)
        if not port.optional and b.kind == "none" and b.value is not None:
            raise SpecError(
                f"required input '{port.name}' is bound to pipeline input '{b.value}', "
                "which has no value",
                file=file,
                line=line,
                field=f"{where}.inputs.{port.name}",
                fix=f"run with --set inputs.{b.value}=VALUE, or give it a default or a path",
            )
        if not port.optional and b.kind == "none":
            raise SpecError(
                f"required input '{port.name}' is not bound",
                file=file,
                line=line,
                field=f"{where}.inputs",
                fix=f"bind {port.name}: to data or an upstream output",
            )


def check_overrides(
    overrides: dict, declared: dict, *, file: Path, field: str, noun: str = "input"
) -> None:
    """Every ``--set NAME=V`` names a declared pipeline input (v2) or parameter (v1)."""
    for name in overrides:
        if name not in declared:
            raise SpecError(
                f"the pipeline has no {noun} '{name}'",
                file=file,
                field=field,
                fix="declare it, or use one of: " + (", ".join(map(str, declared)) or "none"),
            )


def check_declared_input(
    name: str, raw: object, value: Binding, *, file: Path, line: int | None
) -> None:
    """A typed pipeline input (``{type: integer, min: 1}``) holds a value of its type, even
    before any step uses it (a default, or ``--set``)."""
    from amlrun.spec.common import make_input

    if not isinstance(raw, dict) or value.kind != "literal" or value.value is None:
        return
    declared = make_input(name, raw, file=file, diags=Diagnostics(), where=f"inputs.{name}")
    if isinstance(declared, Parameter):
        _check_value(declared, value.value, file=file, line=line, field=f"inputs.{name}")


def _check_value(param: Parameter, value: object, **where) -> None:
    from amlrun.spec.params import coerce

    try:
        coerce(param, value)
    except SpecError as exc:
        raise SpecError(exc.message, fix=exc.fix, **where) from None


def check_data_path(raw: str, *, file: Path | None, line: int | None, field: str) -> None:
    """Data must be a regular file or a folder; absence is reported when the step runs."""
    from amlrun.snapshot.tree import PSEUDO_ROOTS

    usable_path(raw, file=file, line=line, field=field)
    path = os.path.abspath(raw)
    real = os.path.realpath(path)
    if any(real == r or real.startswith(r + "/") for r in PSEUDO_ROOTS):
        raise SpecError(
            f"data path {path} is in a kernel pseudo-filesystem, not data",
            file=file,
            line=line,
            field=field,
            fix="bind a regular file or folder",
        )
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
        raise SpecError(
            f"data path {path} is not a regular file or folder (a FIFO, socket or device)",
            file=file,
            line=line,
            field=field,
            fix="bind a regular file or folder",
        )


def check_runnable(steps: dict[str, Step]) -> None:
    """Before a run: every code folder exists and every ``python x.py`` script is in it."""
    from amlrun.spec.scripts import missing_script

    for step in steps.values():
        module = step.module
        if module is None or step.blocked or any(b.kind == "cloud" for b in step.bindings.values()):
            continue  # the engine refuses these with the cloud reference named
        where = {"file": step.source, "line": step.line, "field": f"jobs.{step.name}"}
        if module.code.missing is not None:
            raise SpecError(
                f"code folder {module.code.missing} of step '{step.name}' does not exist",
                fix="create it, or point `code:` at the folder holding the scripts",
                **where,
            )
        script = missing_script(module)
        if script is not None:
            raise SpecError(
                f"the command of step '{step.name}' runs {script}, which is not in its code "
                f"folder {module.code.root}",
                fix="add the script there, or fix the name in the command",
                **where,
            )
