"""``amlrun backends``: installed backends and whether each can run now, with the fix."""

from __future__ import annotations

import click


def backend_state(name: str, cls, options: dict) -> tuple[str, str]:
    """(state, detail): ready, not-installed, unreachable or broken, each with its fix.

    The state is one word, so scripts can split the line; the detail says what to do."""
    from amlrun.extras import backend_missing, install_hint

    missing = backend_missing(name)
    if missing is not None:
        return "not-installed", f"not installed: {install_hint(missing)} (needs '{missing}')"
    try:
        avail = cls(options).availability()
    except Exception as exc:  # a broken plugin must not hide the others
        return "broken", f"{type(exc).__name__}: {exc}"
    if avail.ok:
        return "ready", avail.detail
    return "unreachable", f"installed, engine not reachable: {avail.detail}"


@click.command()
def backends() -> None:
    """List installed backends (core and plugins) and whether each can run now."""
    from amlrun.backends.registry import backend_classes
    from amlrun.workspace import Workspace

    configured = Workspace.find().config.get("backends") or {}
    for name, cls in sorted(backend_classes().items()):
        state, detail = backend_state(name, cls, dict(configured.get(name) or {}))
        click.echo(f"{name:8} {state:13} {detail}")
