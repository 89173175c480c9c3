"""``amlrun datatype register|list|show``: the port data types connections are checked against."""

from __future__ import annotations

import click

from amlrun.cli.module_register import registry_option


@click.group()
def datatype() -> None:
    """Register and list port data types (custom v1 types, with parents)."""


@datatype.command()
@click.argument("name")
@click.option("--parent", "parents", multiple=True, metavar="TYPE", help="A parent (repeatable).")
@click.option("--directory/--file", "is_dir", default=None, help="Kind (default: the parents').")
@click.option("--description", default="", help="What data of this type holds.")
@registry_option
def register(
    name: str, parents: tuple[str, ...], is_dir: bool | None, description: str, registry: str | None
) -> None:
    """Register a data type: an output of it connects to inputs accepting it or a parent."""
    from amlrun.registry.datatypes import catalog, register_datatype
    from amlrun.registry.layered import WORKSPACE_REGISTRY, open_registries
    from amlrun.registry.registry import Registry

    regs = open_registries(registry)
    target = Registry(registry or WORKSPACE_REGISTRY, regs.workspace, "datatypes")
    is_file = None if is_dir is None else not is_dir
    record, created = register_datatype(target, catalog(regs), name, parents, is_file, description)
    state = "registered" if created else "unchanged"
    click.echo(f"{state} data type {record.name}  {record.digest[:16]}  {target.url}")


def _kind(t) -> str:
    from amlrun.spec.datatypes import WILDCARD

    return "either" if t.name == WILDCARD else "file" if t.is_file else "folder"


def _line(t, where: str) -> str:
    kind = f"{_kind(t):6}"
    parents = f"  < {', '.join(t.parents)}" if t.parents else ""
    return f"{t.name:24} {kind}{parents}  {where}"


@datatype.command(name="list")
@registry_option
def list_(registry: str | None) -> None:
    """List the built-in data types, then registered ones (workspace registry first)."""
    from amlrun.registry.datatypes import TYPE_VERSION, as_type
    from amlrun.registry.layered import open_registries
    from amlrun.spec.datatypes import BUILTIN

    for t in BUILTIN.values():
        click.echo(_line(t, "built-in"))
    seen: set[str] = set()
    for reg in open_registries(registry).of("datatypes"):
        for name in reg.names():
            if name not in seen:
                seen.add(name)
                click.echo(_line(as_type(reg.record(name, TYPE_VERSION)), reg.url))


@datatype.command()
@click.argument("name")
@registry_option
def show(name: str, registry: str | None) -> None:
    """A data type's kind, parents (up to the root) and description."""
    from amlrun.errors import SpecError
    from amlrun.registry.datatypes import catalog
    from amlrun.registry.layered import open_registries

    types = catalog(open_registries(registry))
    found = types.get(name)
    if found is None:
        raise SpecError(
            f"data type {name} is not built in or registered",
            fix=f"amlrun datatype register {name} --parent AnyDirectory",
        )
    click.echo(f"name: {found.name}")
    click.echo(f"kind: {_kind(found)}")
    click.echo(f"parents: {', '.join(found.parents) or '-'}")
    ancestors = [t for t in types.lineage(found.name) if t != found.name]
    click.echo(f"ancestors: {', '.join(ancestors) or '-'}")
    if found.v2:
        kind = _kind(found).replace("either", "file or folder")
        click.echo(f"accepts: any {kind} type (a v2 asset type)")
    if found.description:
        click.echo(f"description: {found.description}")
