"""``amlrun module show SPEC|NAME[:VERSION|@LABEL]``: ports, parameters, rendered command."""

from __future__ import annotations

import click


def _example(module, port) -> str:
    return f"<{port.name.replace(' ', '_')}>"


def _registered(ref: str):
    """A registry reference's module, after a line saying where it resolved."""
    from amlrun.registry.layered import open_registries
    from amlrun.registry.publish import load_checkout
    from amlrun.registry.refs import parse_ref

    regs = open_registries()
    found = regs.find(parse_ref(ref, prefixed=ref.startswith("azureml:")), allow_disabled=True)
    rec, reg = found.record, found.registry
    state = "  (disabled)" if reg.is_disabled(rec.name, rec.version) else ""
    click.echo(f"registered: {rec.name}:{rec.version} in {reg.url}{state}")
    click.echo(f"digest: {rec.digest}   from: {rec.source}")
    labels = [lb for lb, v in sorted(reg.labels(rec.name).items()) if v == rec.version]
    if labels:
        click.echo(f"labels: {', '.join(labels)}")
    return load_checkout(reg, rec, regs.workspace / ".amlrun" / "registry-cache")


@click.command()
@click.argument("spec", metavar="SPEC|NAME[:VERSION|@LABEL]")
def show(spec: str) -> None:
    """Show a module's ports, parameters and command rendered with example values.

    SPEC is a spec file or a registered module (NAME, NAME:VERSION, NAME@LABEL, azureml:...).
    """
    import os

    from amlrun.errors import Diagnostics
    from amlrun.spec.load import load_module
    from amlrun.spec.params import format_enum, resolve_params
    from amlrun.spec.render import render

    diags = Diagnostics()
    m = load_module(spec, diags) if os.path.isfile(spec) else _registered(spec)
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
