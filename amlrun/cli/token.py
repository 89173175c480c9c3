"""``amlrun token create|list|revoke``: the bearer tokens ``amlrun serve`` accepts."""

from __future__ import annotations

import time

import click


def _dir():
    from amlrun.workspace import Workspace

    return Workspace.find().dir


@click.group()
def token() -> None:
    """Create, list and revoke API tokens (scopes: read < submit < admin)."""


@token.command()
@click.argument("name")
@click.option(
    "--scope",
    type=click.Choice(["read", "submit", "admin"]),
    default="read",
    show_default=True,
    help="read: look; submit: also run and cancel; admin: everything.",
)
def create(name: str, scope: str) -> None:
    """Create token NAME and print its secret once (only its hash is stored)."""
    from amlrun.server.tokens import create_token

    secret = create_token(_dir(), name, scope)
    click.echo(secret)
    click.echo(f"token {name} ({scope}) created; it is shown only now: keep it safe", err=True)


@token.command(name="list")
def list_() -> None:
    """Tokens by name and scope (never their secrets)."""
    from amlrun.cli.runs import table
    from amlrun.server.tokens import list_tokens

    rows = [
        (
            t.name,
            t.scope,
            time.strftime("%Y-%m-%d %H:%M", time.localtime(t.created)),
            "revoked" if t.revoked else "active",
        )
        for t in list_tokens(_dir())
    ]
    if not rows:
        click.echo("no tokens (amlrun token create NAME --scope read|submit|admin)")
        return
    click.echo(table(("NAME", "SCOPE", "CREATED", "STATE"), rows))


@token.command()
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke token NAME at once (and log out its browser sessions)."""
    from amlrun.server.tokens import revoke_token

    revoke_token(_dir(), name)
    click.echo(f"revoked {name}")
