"""Shape checks for parsed YAML: a mapping where a mapping belongs, text where a name belongs.

Loaders read nested sections as ``mapping(doc, "inputs", ...)`` instead of
``doc.get("inputs") or {}``, so ``inputs: "yes"`` or a ``true:`` input name is one error
naming the line and the fix rather than an AttributeError deep inside a loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amlrun.errors import SpecError, line_of


def what(value: Any) -> str:
    """How a value reads to a user: 'the text "yes"', 'a list', 'the number 3'."""
    if isinstance(value, bool) or value is None:
        return f"the value {str(value).lower() if value is not None else 'null'}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"[:60]
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    return "a list" if isinstance(value, list) else f"a {type(value).__name__}"


def mapping(
    parent: Any,
    key: str,
    *,
    file: str | Path | None,
    where: str = "",
    fix: str | None = None,
    names: bool = True,
) -> dict:
    """``parent[key]`` as a mapping (``{}`` when absent or null); with ``names``, its keys
    must be text (YAML reads an unquoted ``true:``, ``on:`` or ``1:`` as something else)."""
    value = parent.get(key) if isinstance(parent, dict) else None
    field = f"{where}.{key}" if where else key
    if _empty(value):
        return {}
    if not isinstance(value, dict):
        raise SpecError(
            f"'{key}' must be a mapping, not {what(value)}",
            file=file,
            line=line_of(parent, key),
            field=field,
            fix=fix or f"write {key}: as 'name: value' lines, or remove it",
        )
    if names:
        check_names(value, file=file, where=field)
    return value


def sequence(parent: Any, key: str, *, file: str | Path | None, where: str = "") -> list:
    """``parent[key]`` as a list (``[]`` when absent or null)."""
    value = parent.get(key) if isinstance(parent, dict) else None
    if _empty(value):
        return []
    if not isinstance(value, list):
        field = f"{where}.{key}" if where else key
        raise SpecError(
            f"'{key}' must be a list, not {what(value)}",
            file=file,
            line=line_of(parent, key),
            field=field,
            fix=f"write {key}: as '- item' lines",
        )
    return value


def _empty(value: Any) -> bool:
    """Absent, null, or an empty text/list/mapping: read as "nothing declared"."""
    return value is None or (isinstance(value, (str, list, dict)) and not value)


def check_names(value: dict, *, file: str | Path | None, where: str) -> None:
    """Every key of ``value`` is text."""
    for k in value:
        if not isinstance(k, str):
            raise SpecError(
                f"the name {k!r} is not text (YAML read it as {what(k)})",
                file=file,
                line=line_of(value, k),
                field=where,
                fix="quote the name so YAML keeps it as text",
            )


def local_path(
    base: Path, raw: Any, *, file: str | Path | None, line: int | None, field: str
) -> Path:
    """``base / raw`` resolved, refused first if no file system could hold it."""
    usable_path(raw, file=file, line=line, field=field)
    return (base / str(raw)).resolve()


def usable_path(raw: Any, *, file: str | Path | None, line: int | None, field: str) -> None:
    """A path with a NUL byte or a name over 255 bytes would raise ValueError or
    ENAMETOOLONG on first use; refuse it as the user's error instead."""
    text = str(raw)
    parts = text.replace("\\", "/").split("/")
    if "\0" in text or len(text) > 4096 or any(len(p.encode()) > 255 for p in parts):
        shown = text.replace("\0", "\\0")
        raise SpecError(
            f"'{shown[:60]}{'...' if len(shown) > 60 else ''}' is not a usable path",
            file=file,
            line=line,
            field=field,
            fix="give a relative or absolute path without NUL bytes or names over 255 bytes",
        )
