"""Command rendering for all three placeholder styles.

Placeholders are resolved against one ``values`` mapping (input name -> path or value,
output name -> path; ``None`` means "no value"). An optional group is dropped exactly when
an input it references has no value; a required placeholder without a value is an error
before anything runs.

Shell-style commands never carry values in their text: each value is passed as an argument
of ``/bin/sh -c SCRIPT /bin/sh VALUE...`` and the script refers to it through a variable written for
the quoting context it sits in (amlrun.spec.shell), so every value reaches the command as
exactly one literal, whatever it contains. ``Rendered.text`` is the same command with the
values quoted in place, for people (logs, ``module show``). A command with no shell syntax
at all (a program and plain words, as most are) is also given as ``Rendered.plain``, its
argument list: a runner may start it without the shell, as make does for such commands.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amlrun.errors import SpecError
from amlrun.spec.model import Command, Group, Item, Module, Parameter, Ref, Text
from amlrun.spec.shell import ARITH, DQUOTE, FIXES, HEREDOC, SQUOTE, ShellScanner, Slot

SHELL = "/bin/sh"
_SAFE = re.compile(r"[\w@%+=:,./-]+")


@dataclass(frozen=True)
class Rendered:
    argv: list[str]  # what to execute
    text: str  # the command line as a person reads it
    #: the same command without a shell, when it is plain words (None: it needs the shell)
    plain: list[str] | None = None


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
    for r in cmd.refs():
        if "\0" in format_value(values.get(r.name) or ""):
            raise SpecError(
                f"the value of '{r.name}' contains a NUL character",
                file=module.source,
                field=f"{r.kind}s.{r.name}",
                fix="remove the NUL character: no command-line argument can carry one",
            )
    if cmd.style == "argv":
        argv = _render_argv(cmd.items, values)
        return Rendered(argv=argv, text=shlex.join(argv))
    return _render_shell(module, values)


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


def check_shell_command(
    command: Command,
    params: list[Parameter],
    *,
    file: str | Path | None,
    line: int | None,
    field: str = "command",
) -> None:
    """Refuse at load a placeholder in a construct that cannot take a literal value."""
    if command.style != "shell":
        return
    integers = {p.name for p in params if p.type == "integer"}
    scanner = ShellScanner()
    for it in _flat(command.items, None):
        if isinstance(it, Text):
            scanner.feed(it.text)
            continue
        slot = scanner.placeholder()
        if slot.problem and not (slot.context == ARITH and it.name in integers):
            raise _refused(it, slot, file=file, line=line, field=field)


def _refused(ref: Ref, slot: Slot, **where: Any) -> SpecError:
    return SpecError(
        f"placeholder '{ref.kind}s.{ref.name}' (line {slot.line} of the command) sits "
        f"{slot.problem}, where its value cannot be passed as one literal argument",
        fix=FIXES.get(slot.problem or ""),
        **where,
    )


def _flat(items: tuple[Item, ...], values: Mapping[str, Any] | None) -> list[Text | Ref]:
    """Texts and refs in order; groups kept when active (all of them when ``values`` is None)."""
    out: list[Text | Ref] = []
    for it in items:
        if isinstance(it, Group):
            if values is None or _group_active(it, values):
                out.extend(_flat(it.items, values))
        else:
            out.append(it)
    return out


def _render_shell(module: Module, values: Mapping[str, Any]) -> Rendered:
    scanner = ShellScanner()
    script: list[str] = []
    text: list[str] = []
    slots: dict[str, int] = {}  # placeholder name -> argument number
    flat = _flat(module.command.items, values)
    for it in flat:
        if isinstance(it, Text):
            scanner.feed(it.text)
            script.append(it.text)
            text.append(it.text)
            continue
        slot = scanner.placeholder()
        value = format_value(values[it.name])
        if slot.problem and not (slot.context == ARITH and _is_integer(module, it, value)):
            raise _refused(it, slot, file=module.source, field="command")
        n = slots.setdefault(it.name, len(slots) + 1)
        script.append(_REFERENCE.get(slot.context, '"${{{v}}}"').format(v=f"_amlrun_{n}"))
        text.append(_display(value, slot.context))
    body = "".join(script).strip()
    if slots:
        names = " ".join(f"_amlrun_{n}=${{{n}}}" for n in slots.values())
        body = f"{names}; shift {len(slots)}; {body}"
    args = [format_value(values[name]) for name in slots]
    argv = [SHELL, "-c", body, SHELL, *args]
    return Rendered(argv=argv, text="".join(text).strip(), plain=_plain_words(flat, values))


#: what /bin/sh runs itself (reserved words, builtins; bash's too, where sh is bash): a
#: command starting so needs the shell
_SH_WORDS = (
    "case do done elif else esac fi for if in then until while . : alias bg break cd command "
    "continue echo eval exec exit export false fc fg getopts hash jobs kill local printf pwd "
    "read readonly return set shift test times trap true type ulimit umask unalias unset wait "
    "time function select coproc source declare typeset let shopt builtin caller enable help "
    "history logout mapfile readarray suspend disown dirs popd pushd compgen complete compopt "
    "bind"
)
_SH_OWN = frozenset(_SH_WORDS.split())
#: text the shell reads as literal words split by blanks: no quotes, $, globs, ~, #,
#: redirections, operators or newlines
_PLAIN = re.compile(r"[\w@%+=:,./ \t-]*")
_BLANKS = re.compile(r"[ \t]+")


def _plain_words(items: list[Text | Ref], values: Mapping[str, Any]) -> list[str] | None:
    """The words ``sh`` would make of the command, if it has no shell syntax; else None.

    A placeholder's value is one literal glued to the text around it, exactly what its
    quoted reference gives in the shell. The program must be a literal word that is not
    an assignment or something sh runs itself.
    """
    head = items[0].text.lstrip(" \t") if items and isinstance(items[0], Text) else ""
    if not head or (len(items) > 1 and not _BLANKS.search(head)):
        return None
    words: list[str] = []
    word: str | None = None
    for it in items:
        if isinstance(it, Ref):
            word = (word or "") + format_value(values[it.name])
            continue
        if not _PLAIN.fullmatch(it.text):
            return None
        for i, piece in enumerate(_BLANKS.split(it.text)):
            if i and word is not None:  # a blank ends the word before it
                words.append(word)
                word = None
            if piece:
                word = (word or "") + piece
    if word is not None:
        words.append(word)
    if "=" in words[0] or words[0] in _SH_OWN:
        return None
    return words


def _is_integer(module: Module, ref: Ref, value: str) -> bool:
    param = module.parameter(ref.name)
    return param is not None and param.type == "integer" and _INTEGER.fullmatch(value) is not None


_INTEGER = re.compile(r"-?[0-9]+")
_REFERENCE = {SQUOTE: "'\"${{{v}}}\"'", DQUOTE: "${{{v}}}", HEREDOC: "${{{v}}}", ARITH: "${{{v}}}"}


def _display(value: str, context: str) -> str:
    """``value`` quoted for ``context``, as a person would type it there."""
    if context == SQUOTE:
        return value.replace("'", "'\\''")
    if context == DQUOTE:
        return re.sub(r'(["\\$`])', r"\\\1", value)
    if context == HEREDOC:
        return re.sub(r"([\\$`])", r"\\\1", value)
    if context == ARITH:
        return value
    return value if _SAFE.fullmatch(value) else shlex.quote(value)
