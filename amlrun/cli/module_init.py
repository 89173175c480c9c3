"""``amlrun module init NAME``: a working module project to start from, as ``az ml module init``.

It writes only into a new or empty folder, so it can never overwrite a user's files.
"""

from __future__ import annotations

import re
from pathlib import Path

import click

from amlrun.errors import SpecError

NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")


def init_module(name: str, fmt: str, folder: Path) -> list[Path]:
    """Write the template files of ``fmt`` into ``folder``; the written paths."""
    from amlrun.cli.module_templates import LAYOUTS, template_files

    if not NAME.match(name):
        raise SpecError(
            f"module name '{name}' is not a lowercase identifier",
            field="NAME",
            fix="use lowercase letters, digits and underscores, e.g. count_lines",
        )
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise SpecError(
            f"{folder} already exists and is not an empty folder",
            fix="choose a new folder with -o DIR",
        )
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for rel, text in template_files(name, fmt).items():
        (folder / rel).write_text(text, encoding="utf-8")
        written.append(folder / rel)
    if fmt == "python":
        from amlrun.cli.module_build import build_specs

        spec = folder / LAYOUTS[fmt].spec.format(name=name)
        written += build_specs((folder / f"{name}.py").resolve(), name, spec)
    return written


@click.command()
@click.argument("name")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["v2", "v1", "python"]),
    default="v2",
    show_default=True,
    help="v2 component YAML, v1 module spec, or an @amlrun.module function.",
)
@click.option("-o", "--output", type=click.Path(file_okay=False), help="Folder (default: NAME).")
def init(name: str, fmt: str, output: str | None) -> None:
    """Write a module template: source, spec, a pytest test and a notebook that run it."""
    folder = Path(output or name)
    for path in init_module(name, fmt, folder):
        click.echo(f"wrote {path}")
    click.echo(f"next: amlrun module validate {folder} && python -m pytest {folder}")
