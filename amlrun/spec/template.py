"""Parsing command templates of the three placeholder styles into one item tree."""

from __future__ import annotations

import re
from pathlib import Path

from amlrun.errors import Diagnostics, SpecError
from amlrun.spec.model import Command, Group, Item, Ref, Text

# v2 (and the 2021 preview): ${{inputs.x}}, ${{outputs.x}}, optional groups $[[ ... ]]
_V2_TOKEN = re.compile(r"\$\[\[|\]\]|\$\{\{\s*([A-Za-z_]+)\.([^}]*?)\s*\}\}")
# sdk-2.0: {inputs.x}, {outputs.x}, optional groups [ ... ]
_SDK20_TOKEN = re.compile(r"\[|\]|\{(inputs|outputs)\.([^{}\s]+)\}")


def parse_shell(
    text: str,
    style: str,
    *,
    file: str | Path | None,
    line: int | None,
    diags: Diagnostics,
    field: str = "command",
) -> Command:
    """Parse a string command (``style`` is ``"v2"`` or ``"sdk20"``)."""
    token = _V2_TOKEN if style == "v2" else _SDK20_TOKEN
    open_tok, close_tok = ("$[[", "]]") if style == "v2" else ("[", "]")
    stack: list[list[Item]] = [[]]
    pos = 0
    for m in token.finditer(text):
        if m.start() > pos:
            stack[-1].append(Text(text[pos : m.start()]))
        pos = m.end()
        tok = m.group(0)
        if tok == open_tok:
            stack.append([])
        elif tok == close_tok:
            if len(stack) == 1:
                if style == "sdk20":  # a lone ']' is shell text, not a group end
                    stack[-1].append(Text(tok))
                    continue
                raise SpecError(
                    "']]' closes no '$[['",
                    file=file,
                    line=line,
                    field=field,
                    fix="balance the optional group brackets",
                )
            items = stack.pop()
            stack[-1].extend(_close_group(items, style, open_tok, close_tok, file, line, diags))
        else:
            stack[-1].append(_placeholder(m, diags, file=file, line=line, field=field))
    if pos < len(text):
        stack[-1].append(Text(text[pos:]))
    if len(stack) > 1:
        if style == "sdk20":  # unbalanced '[' is literal text (e.g. shell test syntax)
            while len(stack) > 1:
                items = stack.pop()
                stack[-1].extend([Text(open_tok), *items])
        else:
            raise SpecError(
                "'$[[' is never closed",
                file=file,
                line=line,
                field=field,
                fix="close the optional group with ']]'",
            )
    return Command("shell", _merge_text(stack[0]))


def _placeholder(
    m: re.Match, diags: Diagnostics, *, file: str | Path | None, line: int | None, field: str
) -> Item:
    """``${{inputs.x}}`` / ``${{outputs.y}}`` as a reference; any other expression as text."""
    scope, name = m.group(1), m.group(2)
    if scope in ("inputs", "outputs"):
        return Ref("input" if scope == "inputs" else "output", name)
    # ${{name}}, ${{search_space.x}}...: cloud-side expressions, kept verbatim
    diags.warn(
        f"expression '{m.group(0)}' is not resolved locally and is kept as text",
        file=file,
        line=line,
        field=field,
    )
    return Text(m.group(0))


def _close_group(
    items: list[Item],
    style: str,
    open_tok: str,
    close_tok: str,
    file: str | Path | None,
    line: int | None,
    diags: Diagnostics,
) -> list[Item]:
    has_ref = any(isinstance(i, Ref) for i in Command("shell", tuple(items)).refs())
    if has_ref:
        return [Group(tuple(_merge_text(items)))]
    if style == "v2":
        diags.warn(
            "an optional group '$[[...]]' references no input; it is always kept",
            file=file,
            line=line,
            field="command",
        )
        return items
    # sdk-2.0 (as the 2020 runtime): brackets of a group without placeholders are literal
    return [Text(open_tok), *items, Text(close_tok)]


def _merge_text(items: list[Item]) -> tuple[Item, ...]:
    out: list[Item] = []
    for it in items:
        if isinstance(it, Text) and out and isinstance(out[-1], Text):
            out[-1] = Text(out[-1].text + it.text)
        elif not (isinstance(it, Text) and it.text == ""):
            out.append(it)
    return tuple(out)


_V1_KINDS = {"inputValue": "input", "inputPath": "input", "outputPath": "output"}


def parse_v1_args(
    args: list, *, file: str | Path | None, diags: Diagnostics, field: str = "args"
) -> tuple[Item, ...]:
    """v1 ``args``: strings, ``{inputValue|inputPath|outputPath: name}`` and nested groups."""
    out: list[Item] = []
    lines = getattr(args, "lines", {})
    for i, a in enumerate(args):
        line = lines.get(i) or getattr(args, "line", None)
        if isinstance(a, list):
            group = parse_v1_args(a, file=file, diags=diags, field=field)
            if any(isinstance(x, Ref) for x in Command("argv", group).refs()):
                out.append(Group(group))
            else:
                out.extend(group)
        elif isinstance(a, dict):
            if len(a) != 1 or next(iter(a)) not in _V1_KINDS:
                raise SpecError(
                    f"placeholder {dict(a)} is not one of inputValue, inputPath, outputPath",
                    file=file,
                    line=line,
                    field=field,
                    fix="write {inputValue: <param>}, {inputPath: <input>} or "
                    "{outputPath: <output>}",
                )
            kind, name = next(iter(a.items()))
            out.append(Ref(_V1_KINDS[kind], str(name).strip()))
        elif a is None:
            diags.warn("empty argument is ignored", file=file, line=line, field=field)
        else:
            from amlrun.spec.render import format_value

            out.append(Text(format_value(a)))
    return tuple(out)
