"""Is the script a command starts with in its snapshot? Checked before anything runs.

Only the clear case is judged: a command that starts with ``python [flags] NAME.py`` where
NAME.py is a plain relative path. ``cd src && python x.py``, ``python -m pkg``, paths with
placeholders, variables or globs are left to the command itself.
"""

from __future__ import annotations

import os

from amlrun.spec.model import Module, Text

_PYTHONS = {"python", "python3"}
_NOT_PLAIN = set("$`*?[{~<>|;&")
#: text without these splits into the same words with str.split() as with shlex.split()
#: (pure Python, 100 us a command: a tenth of a 1,000-step null run)
_SHELL_SYNTAX = frozenset("'\"\\\x0b\x0c\x1c\x1d\x1e\x1f")


def missing_script(module: Module) -> str | None:
    """The script named by the command if it is certainly absent from the snapshot."""
    code = module.code
    if code.root is None or code.missing is not None:
        return None
    script = _script(module)
    if script is None or os.path.isfile(os.path.join(code.root, script)):
        return None
    if not os.path.isdir(code.root):  # told as a missing folder, not a missing script
        return None
    head = script.split("/")[0]
    for src, name in code.includes:
        if name == head or (not name and os.path.isfile(os.path.join(src, script))):
            return None
    return script


def _script(module: Module) -> str | None:
    items = module.command.items
    if module.command.style == "argv":
        words = []
        for it in items[:3]:
            if not isinstance(it, Text):
                break
            words.append(it.text)
    else:
        if not items or not isinstance(items[0], Text):
            return None
        words = _words(items[0].text)
        if words is None:
            return None
        if len(items) > 1 and not items[0].text[-1:].isspace():
            words = words[:-1]  # the last word continues into a placeholder
    if not words or words[0] not in _PYTHONS:
        return None
    rest = words[1:]
    while rest and rest[0].startswith("-"):
        if rest[0] in ("-m", "-c") or rest[0].startswith(("-m", "-c")):
            return None
        rest = rest[1:]
    if not rest:
        return None
    script = rest[0]
    if not script.endswith(".py") or script.startswith("/") or _NOT_PLAIN & set(script):
        return None
    return script.removeprefix("./")


def _words(text: str) -> list[str] | None:
    """The shell words of ``text`` (None: unbalanced quotes)."""
    if text.isascii() and _SHELL_SYNTAX.isdisjoint(text):
        return text.split()
    import shlex  # 6 ms to import: only for commands with quotes

    try:
        return shlex.split(text)
    except ValueError:
        return None
