"""Command rendering for all three placeholder styles.

Placeholders are resolved against one ``values`` mapping (input name -> path or value,
output name -> path; ``None`` means "no value"). An optional group is dropped exactly when
an input it references has no value; a required placeholder without a value is an error
before anything runs. Shell-style values are quoted for the quote context they sit in.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from amlrun.errors import SpecError
from amlrun.spec.model import Command, Group, Item, Module, Ref, Text

SHELL = "/bin/sh"
_SAFE = re.compile(r"[\w@%+=:,./-]+")


@dataclass(frozen=True)
class Rendered:
    argv: list[str]  # what to execute
    text: str  # the command line as a person reads it


def format_value(value: Any) -> str:
    """How a value appears on a command line (``True``/``False`` for booleans, as AzureML)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return repr(value)
    return str(value)


def render(module: Module, values: Mapping[str, Any]) -> Rendered:
    cmd = module.command
    missing = [r for r in _required_refs(cmd.items) if values.get(r.name) is None]
    if missing:
        r = missing[0]
        what = "output" if r.kind == "output" else "input"
        raise SpecError(
            f"required {what} '{r.name}' has no value",
            file=module.source,
            field=f"{r.kind}s.{r.name}",
            fix=f"bind a value to '{r.name}' (e.g. --{'output' if r.kind == 'output' else 'input'} "
            f"'{r.name}=...'), give it a default, or mark it optional inside an optional group",
        )
    if cmd.style == "argv":
        argv = _render_argv(cmd.items, values)
        return Rendered(argv=argv, text=shlex.join(argv))
    text = _render_shell(cmd, values).strip()
    return Rendered(argv=[SHELL, "-c", text], text=text)


def _required_refs(items: tuple[Item, ...]) -> list[Ref]:
    return [it for it in items if isinstance(it, Ref)]


def _group_active(group: Group, values: Mapping[str, Any]) -> bool:
    refs = [r for r in Command("argv", group.items).refs()]
    return all(values.get(r.name) is not None for r in refs)


def _render_argv(items: tuple[Item, ...], values: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    for it in items:
        if isinstance(it, Text):
            out.append(it.text)
        elif isinstance(it, Ref):
            out.append(format_value(values[it.name]))
        elif _group_active(it, values):
            out.extend(_render_argv(it.items, values))
    return out


def _render_shell(cmd: Command, values: Mapping[str, Any]) -> str:
    parts: list[str] = []
    state = [None]  # current quote context: None, "'" or '"'

    def emit(items: tuple[Item, ...]) -> None:
        for it in items:
            if isinstance(it, Text):
                parts.append(it.text)
                state[0] = _scan_quotes(it.text, state[0])
            elif isinstance(it, Ref):
                parts.append(_quote(format_value(values[it.name]), state[0]))
            elif _group_active(it, values):
                emit(it.items)
            else:
                # a dropped group must not change the quote context for what follows
                continue

    emit(cmd.items)
    return "".join(parts)


def _scan_quotes(text: str, state: str | None) -> str | None:
    i = 0
    while i < len(text):
        ch = text[i]
        if state is None:
            if ch == "\\":
                i += 1
            elif ch in "'\"":
                state = ch
        elif state == "'":
            if ch == "'":
                state = None
        else:  # double quotes
            if ch == "\\":
                i += 1
            elif ch == '"':
                state = None
        i += 1
    return state


def _quote(value: str, state: str | None) -> str:
    if state is None:
        return value if _SAFE.fullmatch(value) else shlex.quote(value)
    if state == "'":
        return value.replace("'", "'\\''")
    return re.sub(r'(["\\$`])', r"\\\1", value)
