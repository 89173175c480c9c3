"""``amlrun module list``: registered modules, their default and latest versions."""

from __future__ import annotations

import click

from amlrun.cli.module_register import registry_option


@click.command(name="list")
@click.option("--all-versions", is_flag=True, help="One line per version.")
@click.option("--include-disabled", is_flag=True, help="Show disabled versions too.")
@registry_option
def list_(all_versions: bool, include_disabled: bool, registry: str | None) -> None:
    """List the modules of the workspace and team registries (workspace first)."""
    from amlrun.registry.layered import open_registries

    regs = open_registries(registry)
    seen: set[str] = set()
    for reg in regs.layers:
        for name in reg.names():
            if name in seen:
                continue  # shadowed by an earlier layer
            seen.add(name)
            versions = reg.versions(name, include_disabled=include_disabled)
            if not versions:
                continue
            labels = reg.labels(name)
            if not all_versions:
                click.echo(
                    f"{name}  default {labels['default']}  latest {labels['latest'] or '-'}"
                    f"  ({len(versions)} versions)  {reg.url}"
                )
                continue
            for v in versions:
                marks = [lb for lb, lv in sorted(labels.items()) if lv == v]
                if reg.is_disabled(name, v):
                    marks.append("disabled")
                click.echo(
                    f"{name}:{v}" + (f"  [{', '.join(marks)}]" if marks else "") + f"  {reg.url}"
                )
