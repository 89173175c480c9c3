"""``amlrun module set-default|disable|enable``: the mutable state around immutable versions."""

from __future__ import annotations

import click

from amlrun.cli.module_register import registry_option


def _split(ref: str) -> tuple[str, str | None]:
    from amlrun.registry.refs import parse_ref

    r = parse_ref(ref, prefixed=ref.startswith("azureml:"))
    return r.name, r.version


@click.command(name="set-default")
@click.argument("name")
@click.argument("version")
@registry_option
def set_default(name: str, version: str, registry: str | None) -> None:
    """Make VERSION the one azureml:NAME and azureml:NAME@default resolve to."""
    from amlrun.registry.layered import holding, open_registries

    reg = holding(open_registries(registry), name, registry)
    reg.set_label(name, "default", version)
    click.echo(f"{name}: default is now {version} in {reg.url}")


def _toggle(ref: str, registry: str | None, disabled: bool) -> None:
    from amlrun.registry.layered import holding, open_registries

    name, version = _split(ref)
    reg = holding(open_registries(registry), name, registry)
    targets = [version] if version else reg.versions(name)
    for v in targets:
        reg.set_disabled(name, v, disabled)
        click.echo(f"{'disabled' if disabled else 'enabled'} {name}:{v} in {reg.url}")


@click.command()
@click.argument("ref", metavar="NAME[:VERSION]")
@registry_option
def disable(ref: str, registry: str | None) -> None:
    """Refuse a version (or every version) at plan time; it stays stored."""
    _toggle(ref, registry, True)


@click.command()
@click.argument("ref", metavar="NAME[:VERSION]")
@registry_option
def enable(ref: str, registry: str | None) -> None:
    """Allow a disabled version (or every version) again."""
    _toggle(ref, registry, False)
