"""``amlrun module show SPEC``: interface, parameters and the rendered command."""

from __future__ import annotations

import click


def _example(module, port) -> str:
    return f"<{port.name.replace(' ', '_')}>"


@click.command()
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
def show(spec: str) -> None:
    """Show a module's ports, parameters and command rendered with example values."""
    from amlrun.errors import Diagnostics
    from amlrun.spec.load import load_module
    from amlrun.spec.params import format_enum, resolve_params
    from amlrun.spec.render import render

    diags = Diagnostics()
    m = load_module(spec, diags)
    for w in diags.warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(f"{m.name}" + (f" {m.version}" if m.version else "") + f"  [{m.format}]")
    if m.namespace:
        click.echo(f"namespace: {m.namespace}")
    if m.description:
        click.echo(f"description: {m.description.strip().splitlines()[0]}")
    click.echo(f"environment: {m.environment.describe()}")
    click.echo(f"deterministic: {m.is_deterministic}   job type: {m.job_type}")
    click.echo("inputs:")
    for p in m.inputs:
        click.echo(f"  {p.name}: {p.type}" + (" (optional)" if p.optional else ""))
    click.echo("parameters:")
    for p in m.parameters:
        bits = [p.type]
        if p.default is not None:
            bits.append(f"default {format_enum(p.default)}")
        if p.min is not None or p.max is not None:
            bits.append(
                f"range [{'' if p.min is None else p.min}, {'' if p.max is None else p.max}]"
            )
        if p.enum:
            bits.append("one of " + " | ".join(p.enum))
        if p.optional:
            bits.append("optional")
        indent = "  " * (len(p.active_when) + 1)
        cond = (
            f"  when {p.active_when[-1].parameter} = {p.active_when[-1].value}"
            if p.active_when
            else ""
        )
        click.echo(f"{indent}{p.name}: {', '.join(bits)}{cond}")
    click.echo("outputs:")
    for p in m.outputs:
        click.echo(f"  {p.name}: {p.type}")
    values = {k: v for k, v in resolve_params(m, {}).items()}
    for p in m.parameters:
        if values.get(p.name) is None and not p.optional and not p.active_when:
            values[p.name] = f"<{p.name}>"
    for p in (*m.inputs, *m.outputs):
        values[p.name] = None if p.optional else f"/path/to/{p.name.replace(' ', '_')}"
    click.echo("command (example values):")
    click.echo("  " + render(m, values).text)
