"""``amlrun backends``: installed backends and whether each can run now."""

from __future__ import annotations

import click


@click.command()
def backends() -> None:
    """List installed backends (core and plugins) and whether each can run now."""
    from amlrun.backends.registry import backend_classes
    from amlrun.workspace import Workspace

    ws = Workspace.find()
    configured = ws.config.get("backends") or {}
    for name, cls in sorted(backend_classes().items()):
        try:
            avail = cls(dict(configured.get(name) or {})).availability()
            state, detail = ("ready" if avail.ok else "unavailable"), avail.detail
        except Exception as exc:  # a broken plugin must not hide the others
            state, detail = "broken", f"{type(exc).__name__}: {exc}"
        click.echo(f"{name:8} {state:12} {detail}")
