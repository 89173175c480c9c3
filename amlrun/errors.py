"""User-facing errors and warnings.

Every problem a user can cause is reported as a :class:`SpecError` naming the file, line,
field and the fix; the CLI prints it and exits with status 2 instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


def _where(file: str | Path | None, line: int | None, field: str | None) -> str:
    parts = []
    if file is not None:
        parts.append(f"{file}:{line}" if line else str(file))
    if field:
        parts.append(field)
    return ": ".join(parts)


class AmlrunError(Exception):
    """Base class of every error amlrun reports to a user (exit status 2)."""

    exit_code = 2


class SpecError(AmlrunError):
    """Something in a user's file or argument that amlrun cannot use, and how to fix it."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        where = _where(self.file, self.line, self.field)
        text = f"{where}: {self.message}" if where else self.message
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class NoSpace(AmlrunError):
    """A write failed because a disk is full or read-only: one line naming the path."""

    ERRNOS = frozenset({28, 30, 122, 13, 1})  # ENOSPC, EROFS, EDQUOT, EACCES, EPERM

    def __init__(self, what: str, exc: OSError) -> None:
        """``what`` names the place, e.g. "to the store /srv/cache"; ``exc`` says why."""
        super().__init__(
            f"cannot write {what}: {exc.strerror or exc} (free some space, or make it writable)"
        )


class StepFailed(AmlrunError):
    """A pipeline or module run finished with a failed step (exit status 1)."""

    exit_code = 1


@dataclass(frozen=True)
class Warning_:
    """A tolerated oddity in a user's file: reported, never fatal."""

    message: str
    file: str | None = None
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = _where(self.file, self.line, self.field)
        return f"{where}: {self.message}" if where else self.message


class Diagnostics:
    """Collects warnings while loading, so a caller decides how to show them."""

    def __init__(self) -> None:
        self.warnings: list[Warning_] = []

    def warn(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        w = Warning_(message, str(file) if file is not None else None, line, field)
        if w not in self.warnings:
            self.warnings.append(w)

    def unknown_keys(
        self, mapping: dict, known: Iterable[str], *, file: str | Path, where: str = ""
    ) -> None:
        """Warn about keys not in ``known``, suggesting the closest known key."""
        known = list(known)
        lowered = {k.lower(): k for k in known}
        for key in mapping:
            if key in known:
                continue
            line = line_of(mapping, key)
            field = f"{where}.{key}" if where else str(key)
            import difflib  # only to suggest a key: not at start-up

            close = difflib.get_close_matches(str(key).lower(), list(lowered), n=1, cutoff=0.7)
            guess = lowered[close[0]] if close else None
            hint = f" (did you mean '{guess}'?)" if guess else ""
            self.warn(f"unknown key '{key}' is ignored{hint}", file=file, line=line, field=field)


def line_of(node: object, key: object | None = None) -> int | None:
    """The 1-based source line of a YAML mapping/list, or of one of its keys/items."""
    if key is not None:
        lines = getattr(node, "lines", None)
        if lines and key in lines:
            return lines[key]
    return getattr(node, "line", None)
