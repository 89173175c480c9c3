"""``amlrun pipeline publish PIPELINE --name N``: freeze a pipeline as a versioned endpoint."""

from __future__ import annotations

import click


@click.command()
@click.argument("pipeline", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", required=True, help="The endpoint name runs are submitted to.")
@click.option("--version", default=None, help="Version to create (default: the next integer).")
@click.option("--description", default="", help="Shown by 'amlrun pipeline endpoint show'.")
def publish(pipeline: str, name: str, version: str | None, description: str) -> None:
    """Freeze PIPELINE and everything it runs (specs, snapshots, local data) as NAME.

    The version runs as published however its files change afterwards; the first version
    published is the default (see 'amlrun pipeline endpoint set-default').
    """
    from pathlib import Path

    from amlrun.published import publish as freeze
    from amlrun.registry.pipelines import pipeline_registry
    from amlrun.registry.registry import DEFAULT, check_label
    from amlrun.workspace import Workspace

    check_label(name)  # a name is a folder and a URL segment
    ws = Workspace.find()
    record, created = freeze(ws, Path(pipeline), name, version, description)
    default = pipeline_registry(ws.root).label(name, DEFAULT)
    verb = "published" if created else "already published, unchanged:"
    click.echo(f"{verb} {name}:{record.version} ({len(record.files)} files, {record.digest[:12]})")
    if default != record.version:
        click.echo(
            f"note: the default version of {name} stays {default}; "
            f"to run this one by default: amlrun pipeline endpoint set-default {name} "
            f"{record.version}"
        )
