"""``amlrun module build FILE.py``: the v2 spec of the ``@amlrun.module`` functions in a file.

The spec's ``code`` points back at the function's folder, so the written spec has the same
step key as the function itself (same interface, command and snapshot) wherever it is saved.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import click
import yaml

from amlrun.errors import AmlrunError, SpecError
from amlrun.spec.model import Module


def decorated_modules(source: Path) -> dict[str, Module]:
    """Module objects defined at the top level of ``source``, by function name."""
    spec = importlib.util.spec_from_file_location(f"_amlrun_build_{source.stem}", source)
    if spec is None or spec.loader is None:
        raise SpecError(f"{source} is not a Python file", file=str(source))
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except AmlrunError:
        raise
    except Exception as exc:
        raise SpecError(
            f"importing {source.name} failed: {type(exc).__name__}: {exc}",
            file=str(source),
            fix="make the file importable (python FILE.py should not fail)",
        ) from None
    return {
        m.func.__name__: m
        for m in vars(mod).values()
        if isinstance(m, Module) and m.func is not None and Path(m.source) == source
    }


#: first line of every built spec: only such files are ever overwritten by a later build
HEADER = "# written by amlrun module build from "


def spec_text(module: Module, spec_path: Path) -> str:
    """``module`` as a v2 spec saved at ``spec_path`` (``code`` relative to that file)."""
    doc = yaml.safe_load(module.to_yaml())
    doc["code"] = Path(os.path.relpath(module.code.root, spec_path.parent)).as_posix()
    head = f"{HEADER}{Path(module.source).name}; edit the function, not this file\n"
    return head + yaml.safe_dump(doc, sort_keys=False, width=100)


def _check_overwrite(path: Path) -> None:
    """A spec the user wrote by hand is never replaced."""
    if path.exists() and not (
        path.is_file() and path.read_text(encoding="utf-8", errors="replace").startswith(HEADER)
    ):
        raise SpecError(
            f"{path} exists and was not written by amlrun module build",
            file=str(path),
            fix="choose another file with -o, or move that one away",
        )


def build_specs(source: Path, function: str | None, out: Path | None) -> list[Path]:
    """Write one spec per chosen function; ``out`` only when a single function is chosen."""
    found = decorated_modules(source)
    if function is not None:
        if function not in found:
            names = ", ".join(sorted(found)) or "none"
            raise SpecError(
                f"{source.name} has no @amlrun.module function '{function}'",
                file=str(source),
                fix=f"use one of: {names}",
            )
        found = {function: found[function]}
    if not found:
        raise SpecError(
            f"{source.name} defines no @amlrun.module functions",
            file=str(source),
            fix="decorate a typed function with @amlrun.module(name=..., version=...)",
        )
    if out is not None and len(found) > 1:
        raise SpecError(
            f"-o names one spec file but {source.name} has {len(found)} modules",
            fix="choose one with --function, or leave out -o",
        )
    paths = {n: out or source.parent / f"{m.name}.yml" for n, m in found.items()}
    for path in paths.values():
        _check_overwrite(path)
    written = []
    for fname, module in found.items():
        path = paths[fname]
        path.write_text(spec_text(module, path.resolve()), encoding="utf-8")
        written.append(path)
    return written


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--function", "-f", help="Only this decorated function (default: all of them).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Spec file (default: NAME.yml)."
)
def build(file: str, function: str | None, output: str | None) -> None:
    """Write the v2 component spec of each @amlrun.module function in FILE."""
    source = Path(file).resolve()
    for path in build_specs(source, function, Path(output) if output else None):
        click.echo(f"wrote {path}")
