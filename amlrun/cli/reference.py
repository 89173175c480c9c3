"""The CLI reference (docs/cli.md), generated from the click commands so it cannot drift.

``python -m amlrun.cli.reference > docs/cli.md`` rewrites it; a test fails when it is stale.
"""

from __future__ import annotations

import click

from amlrun.cli.main import cli


def _commands(group: click.Group, ctx: click.Context) -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        path = f"{ctx.command_path} {name}"
        out.append((path, cmd))
        if isinstance(cmd, click.Group):
            out += _commands(cmd, click.Context(cmd, info_name=name, parent=ctx))
    return out


def _section(path: str, cmd: click.Command, ctx: click.Context) -> str:
    usage = " ".join([path, *cmd.collect_usage_pieces(ctx)])
    lines = [f"## `{path}`", "", (cmd.help or "").strip(), "", "```", usage, "```"]
    help_option = cmd.get_help_option(ctx)
    records = [
        p.get_help_record(ctx)
        for p in cmd.get_params(ctx)
        if isinstance(p, click.Option) and p is not help_option
    ]
    rows = [r for r in records if r is not None]
    if rows:
        lines += ["", "| option | meaning |", "| --- | --- |"]
        lines += [f"| `{_cell(opt)}` | {_cell(text)} |" for opt, text in rows]
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Help text safe in a Markdown table cell (GitHub reads <store> as an HTML tag)."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def reference() -> str:
    """Every command with its usage line and options, as Markdown."""
    root = click.Context(cli, info_name="amlrun", help_option_names=["-h", "--help"])
    parts = [
        "# CLI reference",
        "",
        "Generated from the commands themselves (`python -m amlrun.cli.reference > docs/cli.md`);",
        "`amlrun COMMAND -h` prints the same. Shell completion: "
        '`eval "$(_AMLRUN_COMPLETE=bash_source amlrun)"` (or `zsh_source`, `fish_source`).',
    ]
    for path, cmd in _commands(cli, root):
        ctx = click.Context(cmd, info_name=path.rsplit(" ", 1)[-1], parent=root)
        parts += ["", _section(path, cmd, ctx)]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    click.echo(reference(), nl=False)
