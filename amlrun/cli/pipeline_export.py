"""``amlrun pipeline export PIPELINE --format yaml|python|notebook|mermaid [-o FILE]``."""

from __future__ import annotations

import click

from amlrun.cli.common import pipeline_argument, set_option
from amlrun.export import FORMATS


@click.command()
@pipeline_argument
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="What to write.")
@click.option(
    "-o",
    "--output",
    "out",
    type=click.Path(dir_okay=False),
    help="File to write (default: standard output; paths are then relative to the current folder).",
)
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@set_option
def export(pipeline: str, fmt: str, out: str | None, force: bool, sets: tuple[str, ...]) -> None:
    """Write the loaded pipeline (v2, v1 YAML or DSL) as v2 YAML, a DSL script, a notebook or a
    Mermaid graph, so colleagues can reuse it as code."""
    from pathlib import Path

    from amlrun.cli.common import set_options
    from amlrun.errors import SpecError
    from amlrun.export import export_pipeline, lost_in_export
    from amlrun.loading import load_pipeline
    from amlrun.workspace import Workspace

    dest = Path(out).resolve() if out else None
    source = Path(pipeline).resolve()
    if dest is not None and dest == source:
        raise SpecError(f"{out} is the pipeline being exported", fix="write to another file")
    if dest is not None and dest.exists() and not force:
        raise SpecError(f"{out} exists", fix="pass --force to overwrite it, or pick a new file")
    ws = Workspace.find()
    p = load_pipeline(pipeline, set_options(sets), config=ws.config)
    text = export_pipeline(p, fmt, dest.parent if dest else Path.cwd())
    for note in lost_in_export(p, fmt):
        click.echo(f"note: {note}", err=True)
    if dest is None:
        click.echo(text, nl=False)
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")
    click.echo(f"{p.name} -> {out} ({fmt}, {len(p.steps)} steps)")
