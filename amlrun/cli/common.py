"""Options and helpers shared by the pipeline commands (run, status)."""

from __future__ import annotations

from typing import Any

import click

from amlrun.cache.files import LINK_TYPES
from amlrun.errors import SpecError


def set_options(sets: tuple[str, ...]) -> dict[str, Any]:
    """``--set inputs.x=V`` (``inputs.`` may be left out) -> {x: V}; V is read as YAML.
    ``jobs.…`` keys are kept whole (see amlrun.pipelines.job_sets)."""
    out: dict[str, Any] = {}
    if not sets:  # a null run without --set never imports yaml (10 ms)
        return out
    import yaml

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


def open_pipeline(
    ws, pipeline: str, sets: tuple[str, ...], store: str | None, link: str | None = None
):
    """The pipeline at ``pipeline`` and the store it uses, in workspace ``ws``."""
    from amlrun.cache.store import open_store
    from amlrun.errors import Diagnostics
    from amlrun.loading import load_pipeline

    diags = Diagnostics()
    p = load_pipeline(pipeline, set_options(sets), diags, ws.config, cache_dir=ws.dir / "plans")
    for w in diags.warnings:
        click.echo(f"warning: {w}", err=True)
    store_spec = store or ws.config.get("store")
    return p, open_store(store_spec, ws.root, link=link or ws.config.get("link"))


pipeline_argument = click.argument("pipeline", type=click.Path(exists=True, dir_okay=False))
set_option = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="inputs.NAME=VALUE",
    help="Override a pipeline input, a job's (jobs.JOB.inputs.NAME=V, jobs.JOB.compute=C) "
    "or a setting (settings.force_rerun=true).",
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


def _installed_backend(ctx: click.Context, param: click.Parameter, value: str | None):
    """``--backend docker`` without the docker package: one line naming the extra."""
    from amlrun.extras import backend_missing, install_hint

    missing = backend_missing(value) if value else None
    if missing is not None:
        raise SpecError(
            f"the {value} backend needs the Python package '{missing}', which is not installed",
            field="--backend",
            fix=install_hint(missing),
        )
    return value


backend_option = click.option(
    "--backend",
    metavar="NAME",
    callback=_installed_backend,
    help="Run every step on this backend (local, docker, dask...).",
)


class Jobs(click.ParamType):
    """``-j N`` with N >= 1, or ``-j auto``: one step per CPU."""

    name = "jobs"

    def convert(self, value, param, ctx) -> int:
        import os

        if isinstance(value, int) and value >= 1:
            return value
        if str(value).strip().lower() == "auto":
            return os.cpu_count() or 1
        try:
            jobs = int(str(value))
        except ValueError:
            jobs = 0
        if jobs < 1:
            self.fail(f"{value!r} is not a number of steps >= 1, nor 'auto'", param, ctx)
        return jobs


jobs_option = click.option(
    "-j",
    "--jobs",
    type=Jobs(),
    metavar="N",
    default=1,
    show_default=True,
    help="Steps to run in parallel (a number, or 'auto': one per CPU).",
)
