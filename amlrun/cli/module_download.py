"""``amlrun module download NAME[:VERSION] -o DIR``: a registered version's spec and files."""

from __future__ import annotations

import click

from amlrun.cli.module_register import registry_option


@click.command()
@click.argument("ref", metavar="NAME[:VERSION|@LABEL]")
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to write (must not exist or be empty).",
)
@registry_option
def download(ref: str, out: str, registry: str | None) -> None:
    """Write the version's snapshot to DIR with its spec beside it (DIR/spec/, DIR/snapshot/)."""
    from pathlib import Path

    from amlrun.errors import SpecError
    from amlrun.registry.layered import open_registries
    from amlrun.registry.publish import checkout
    from amlrun.registry.refs import parse_ref

    dest = Path(out)
    if dest.exists() and any(dest.iterdir()):
        raise SpecError(f"{out} is not empty", fix="download into a new folder")
    found = open_registries(registry).find(
        parse_ref(ref, prefixed=ref.startswith("azureml:")), allow_disabled=True
    )
    spec, tree = checkout(found.registry, found.record, dest)
    for path in (spec, *tree.rglob("*")):  # the store hands files back read-only
        path.chmod(path.stat().st_mode | 0o200)
    click.echo(f"{found.record.name}:{found.record.version} -> {spec} and {tree}/")
