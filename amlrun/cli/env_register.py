"""``amlrun env register NAME:VERSION``: an environment ``azureml:NAME:VERSION`` resolves to."""

from __future__ import annotations

from pathlib import Path

import click

from amlrun.cli.module_register import registry_option


def _definition(conda_file: str | None, pip_file: str | None, image: str | None, build: str | None):
    """The Environment the options describe; exactly one kind (an image may add a conda file)."""
    from amlrun.errors import SpecError
    from amlrun.spec.common import conda_environment, read_conda
    from amlrun.spec.model import Environment

    if sum(x is not None for x in (pip_file, image or conda_file, build)) != 1:
        raise SpecError(
            "give one of --conda-file, --pip-requirements, --image or --build",
            fix="e.g. amlrun env register sk:1 --conda-file env.yml",
        )
    if pip_file is not None:
        lines = Path(pip_file).read_text(encoding="utf-8").splitlines()
        pip = tuple(ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#"))
        return Environment(kind="pip", pip=pip)
    if build is not None:
        return Environment(kind="build", dockerfile="Dockerfile")
    conda = None
    if conda_file is not None:
        path = Path(conda_file)
        conda = read_conda(path, file=path, line=None, field="--conda-file")
    return conda_environment(conda, conda_file and Path(conda_file).name, image, None)


@click.group()
def env() -> None:
    """Register environments that azureml:NAME:VERSION references resolve to."""


@env.command()
@click.argument("ref", metavar="NAME:VERSION")
@click.option("--conda-file", type=click.Path(exists=True, dir_okay=False))
@click.option("--pip-requirements", "pip_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--image", metavar="IMG", help="A Docker image (with --conda-file: on top of it).")
@click.option("--build", type=click.Path(exists=True, file_okay=False), help="A build context.")
@registry_option
def register(
    ref: str,
    conda_file: str | None,
    pip_file: str | None,
    image: str | None,
    build: str | None,
    registry: str | None,
) -> None:
    """Register an immutable environment version."""
    from amlrun.registry.assets import register_environment
    from amlrun.registry.layered import WORKSPACE_REGISTRY, open_registries
    from amlrun.registry.registry import Registry

    definition = _definition(conda_file, pip_file, image, build)
    target = Registry(registry or WORKSPACE_REGISTRY, open_registries().workspace, "environments")
    source = conda_file or pip_file or image or build or ""
    record, created = register_environment(
        target, ref, definition, Path(build) if build else None, source
    )
    state = "registered" if created else "unchanged"
    click.echo(f"{state} environment {record.name}:{record.version}  {record.digest[:16]}")
