"""Options and helpers shared by the pipeline commands (run, status)."""

from __future__ import annotations

from typing import Any

import click

from amlrun.cache.files import LINK_TYPES
from amlrun.errors import SpecError


def set_options(sets: tuple[str, ...]) -> dict[str, Any]:
    """``--set inputs.x=V`` (``inputs.`` may be left out) -> {x: V}; V is read as YAML."""
    import yaml

    out: dict[str, Any] = {}
    for s in sets:
        name, sep, value = s.partition("=")
        if not sep:
            raise SpecError(f"--set '{s}' is not inputs.NAME=VALUE", fix="write --set inputs.x=5")
        name = name.strip().removeprefix("inputs.")
        try:
            out[name] = yaml.safe_load(value) if value.strip() else value
        except yaml.YAMLError:
            out[name] = value
    return out


def open_pipeline(pipeline: str, sets: tuple[str, ...], store: str | None, link: str | None = None):
    from amlrun.cache.store import open_store
    from amlrun.errors import Diagnostics
    from amlrun.loading import load_pipeline
    from amlrun.workspace import Workspace

    ws = Workspace.find()
    diags = Diagnostics()
    p = load_pipeline(pipeline, set_options(sets), diags, ws.config, cache_dir=ws.dir / "plans")
    for w in diags.warnings:
        click.echo(f"warning: {w}", err=True)
    store_spec = store or ws.config.get("store")
    return ws, p, open_store(store_spec, ws.root, link=link or ws.config.get("link"))


pipeline_argument = click.argument("pipeline", type=click.Path(exists=True, dir_okay=False))
set_option = click.option(
    "--set", "sets", multiple=True, metavar="inputs.NAME=VALUE", help="Override a pipeline input."
)
store_option = click.option(
    "--store",
    metavar="URL",
    help="Cache store: a folder or fsspec URL (s3://, memory://); comma-separate layers.",
)
link_option = click.option(
    "--link",
    type=click.Choice(LINK_TYPES),
    help="How outputs are restored from a local store (default: [tool.amlrun] link, "
    "else reflink, falling back to copy). hardlink is cheapest but shares the store's inode.",
)
backend_option = click.option(
    "--backend", metavar="NAME", help="Run every step on this backend (local, docker, dask...)."
)
