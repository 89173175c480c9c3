"""``amlrun module register SOURCE``: a spec, a folder of specs, a zip or a Git repository."""

from __future__ import annotations

import click

registry_option = click.option(
    "--registry", metavar="URL", help="Registry folder or fsspec URL (default: the workspace's)."
)


@click.command()
@click.argument("source")
@registry_option
@click.option("--set-default", is_flag=True, help="Make the registered versions the default.")
@click.option("--label", "labels", multiple=True, metavar="L", help="Point label L at them.")
def register(source: str, registry: str | None, set_default: bool, labels: tuple[str, ...]) -> None:
    """Register module versions (immutable) from SOURCE.

    SOURCE is a spec file, a folder (every spec under it), a .zip, a local Git repository
    (PATH@REF) or git+https://HOST/REPO[@REF][#subdir=PATH].
    """
    import tempfile
    from pathlib import Path

    from amlrun.errors import Diagnostics, SpecError
    from amlrun.registry.layered import WORKSPACE_REGISTRY, open_registries
    from amlrun.registry.publish import publish
    from amlrun.registry.registry import DEFAULT, LATEST, Registry, check_label
    from amlrun.registry.sources import collect
    from amlrun.spec.load import load_module

    for label in labels:  # checked before anything is registered
        if check_label(label) == LATEST:
            raise SpecError("'latest' is computed (the highest enabled version), not set")
    regs = open_registries()
    target = Registry(registry or WORKSPACE_REGISTRY, regs.workspace)
    counts = {"registered": 0, "unchanged": 0, "failed": 0}
    with tempfile.TemporaryDirectory(prefix="amlrun-register-") as scratch:
        specs, described = collect(source, Path(scratch))
        if not specs:
            raise SpecError(
                f"no module spec found in {source}", fix="give a spec file or a folder holding one"
            )
        for spec in specs:
            diags = Diagnostics()
            try:
                module = load_module(spec, diags)
                record, created = publish(target, module, described)
                for label in (*labels, *([DEFAULT] if set_default else [])):
                    target.set_label(record.name, label, record.version)
            except SpecError as exc:
                counts["failed"] += 1
                click.echo(f"error: {exc}", err=True)
                continue
            for w in diags.warnings:
                click.echo(f"warning: {w}", err=True)
            state = "registered" if created else "unchanged"
            counts[state] += 1
            click.echo(
                f"{state} {record.name}:{record.version}  {record.digest[:16]}  in {target.url}"
            )
    if len(specs) > 1 or counts["failed"]:
        click.echo(", ".join(f"{n} {state}" for state, n in counts.items()))
    if counts["failed"]:
        raise SpecError(f"{counts['failed']} of {len(specs)} specs were not registered (see above)")
