"""``amlrun init``: create a workspace explicitly, with a config template to fill in."""

from __future__ import annotations

from pathlib import Path

import click

CONFIG_TEMPLATE = """\
# amlrun workspace configuration. It refines [tool.amlrun] of pyproject.toml table by table;
# every setting is optional. Uncomment what you need.

# store: .amlrun/cache,s3://team-bucket/amlrun?ro   # a folder or fsspec URL; comma-separate
#                                                   # layers, suffix ?ro to only read one
# link: reflink            # how outputs are restored: reflink (else copy), copy, hardlink
# default_backend: local   # where steps run when their compute is not mapped below

# compute:                 # compute names in pipeline files -> backends
#   cpu-cluster: dask
#   gpu-cluster: docker

# backends:                # options of each backend
#   docker:
#     default_image: python:3.11-slim
#   dask:
#     scheduler: tcp://127.0.0.1:8786

# datastores:              # v1 data_references -> local folders or URLs
#   workspaceblobstore: ./data
"""

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
    (state / "config.yaml").write_text(CONFIG_TEMPLATE, encoding="utf-8")
    (state / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    click.echo(f"created {state} (edit {state / 'config.yaml'} to configure it)")
