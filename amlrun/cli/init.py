"""``amlrun init``: create a workspace explicitly, with a config template to fill in."""

from __future__ import annotations

from pathlib import Path

import click

#: runs, logs and the local cache stay out of git; the configuration is shared
GITIGNORE = "*\n!.gitignore\n!config.yaml\n"


@click.command()
@click.argument("folder", default=".", type=click.Path(file_okay=False))
def init(folder: str) -> None:
    """Make FOLDER (default: here) an amlrun workspace: .amlrun/ with a config template."""
    state = Path(folder).resolve() / ".amlrun"
    if state.is_dir():
        click.echo(f"{state} already exists; nothing changed")
        return
    state.mkdir(parents=True)
    from amlrun.settings import config_template

    (state / "config.yaml").write_text(config_template(), encoding="utf-8")
    (state / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    click.echo(f"created {state} (edit {state / 'config.yaml'} to configure it)")
