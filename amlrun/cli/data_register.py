"""``amlrun data register NAME:VERSION PATH_OR_URL``: a data asset for ``azureml:`` inputs."""

from __future__ import annotations

import click

from amlrun.cli.module_register import registry_option


@click.group()
def data() -> None:
    """Register data assets that azureml:NAME:VERSION inputs resolve to."""


@data.command()
@click.argument("ref", metavar="NAME:VERSION")
@click.argument("target", metavar="PATH_OR_URL")
@registry_option
def register(ref: str, target: str, registry: str | None) -> None:
    """Register an immutable data version: a local file or folder is stored as content."""
    from amlrun.registry.assets import register_data
    from amlrun.registry.layered import WORKSPACE_REGISTRY, open_registries
    from amlrun.registry.registry import Registry

    store = Registry(registry or WORKSPACE_REGISTRY, open_registries().workspace, "data")
    record, created = register_data(store, ref, target, target)
    state = "registered" if created else "unchanged"
    click.echo(f"{state} data {record.name}:{record.version}  {record.digest[:16]}")
