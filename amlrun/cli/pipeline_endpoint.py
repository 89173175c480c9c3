"""``amlrun pipeline endpoint list|show|set-default|disable|enable``: the versions behind a
published pipeline's name (Azure ML's PipelineEndpoint), their default and disabled marks."""

from __future__ import annotations

import json

import click


def _registry():
    from amlrun.registry.pipelines import pipeline_registry
    from amlrun.workspace import Workspace

    return pipeline_registry(Workspace.find().root)


@click.group()
def endpoint() -> None:
    """Manage published pipelines (see 'amlrun pipeline publish')."""


@endpoint.command(name="list")
def list_() -> None:
    """Every published pipeline: default version, versions, disabled ones."""
    reg = _registry()
    names = reg.names()
    if not names:
        click.echo("no published pipelines (amlrun pipeline publish PIPELINE --name N)")
    for name in names:
        versions = reg.versions(name)
        off = [v for v in versions if reg.is_disabled(name, v)]
        extra = f", disabled: {', '.join(off)}" if off else ""
        default = reg.labels(name)["default"]
        click.echo(f"{name}  default {default}  versions {', '.join(versions)}{extra}")


@endpoint.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the versions as JSON.")
def show(name: str, as_json: bool) -> None:
    """NAME's versions: description, digest, parameters and data inputs."""
    from amlrun.registry.pipelines import find_version, version_rows

    reg = _registry()
    if not reg.versions(name):
        find_version(reg, name)  # the error naming what is published
    rows = version_rows(reg, name)
    if as_json:
        click.echo(json.dumps({"name": name, "versions": rows}, indent=1))
        return
    for row in rows:
        marks = [m for m in ("default", "disabled") if row[m]]
        click.echo(f"{name}:{row['version']}" + (f"  [{', '.join(marks)}]" if marks else ""))
        click.echo(f"  digest {row['digest']}  {row['files']} files")
        if row["description"]:
            click.echo(f"  {row['description']}")
        for kind in ("parameters", "inputs"):
            for p, spec in row[kind].items():
                click.echo(f"  {kind[:-1]} {p}: {spec['type']} = {spec['default']!r}")


@endpoint.command(name="set-default")
@click.argument("name")
@click.argument("version")
def set_default(name: str, version: str) -> None:
    """Make VERSION the one submissions to NAME run when they name no version."""
    _registry().set_label(name, "default", version)
    click.echo(f"{name}: default is now {version}")


def _toggle(ref: str, disabled: bool) -> None:
    name, _, version = ref.partition(":")
    reg = _registry()
    from amlrun.registry.pipelines import find_version

    if not reg.versions(name):
        find_version(reg, name)  # the error naming what is published
    for v in [version] if version else reg.versions(name):
        reg.set_disabled(name, v, disabled)
        click.echo(f"{'disabled' if disabled else 'enabled'} {name}:{v}")


@endpoint.command()
@click.argument("ref", metavar="NAME[:VERSION]")
def disable(ref: str) -> None:
    """Refuse submissions to a version (or to every version); it stays stored."""
    _toggle(ref, True)


@endpoint.command()
@click.argument("ref", metavar="NAME[:VERSION]")
def enable(ref: str) -> None:
    """Accept submissions to a disabled version (or to every version) again."""
    _toggle(ref, False)
