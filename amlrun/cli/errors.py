"""How the CLI tells an error: one ``error:`` line on stderr, or with ``--json`` one JSON
object ``{"error": {file, line, field, message, fix}}`` on stdout; the exit status is the
same either way (2 for bad input, 130 for an interrupt)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import click

from amlrun.errors import AmlrunError, NoSpace, SpecError
from amlrun.extras import install_hint, missing_module


@dataclass(frozen=True)
class Told:
    message: str
    fix: str | None = None
    file: str | None = None
    line: int | None = None
    field: str | None = None
    exit_code: int = 2

    def text(self) -> str:
        return str(
            SpecError(self.message, file=self.file, line=self.line, field=self.field, fix=self.fix)
        )

    def as_json(self) -> str:
        keys = ("file", "line", "field", "message", "fix")
        return json.dumps({"error": {k: getattr(self, k) for k in keys}})


def told(exc: BaseException) -> Told | None:
    """What to tell the user about ``exc``; None for a bug (its traceback is the report)."""
    missing = missing_module(exc)
    hint = install_hint(missing.name) if missing is not None and missing.name else None
    if hint is not None:
        return Told(f"the Python package '{missing.name}' is not installed", fix=hint)
    if isinstance(exc, SpecError):
        return Told(exc.message, exc.fix, exc.file, exc.line, exc.field, exc.exit_code)
    if isinstance(exc, AmlrunError):
        return Told(str(exc), exit_code=exc.exit_code)
    if isinstance(exc, click.ClickException):
        return Told(exc.format_message(), exit_code=exc.exit_code)
    if isinstance(exc, OSError) and exc.errno in NoSpace.ERRNOS:  # amlrun's own files
        return Told(str(NoSpace(str(exc.filename or "a file"), exc)))
    return None


def show(exc: BaseException, what: Told, as_json: bool) -> None:
    if as_json:
        click.echo(what.as_json())
    elif isinstance(exc, click.ClickException):  # usage errors keep click's usage line
        exc.show()
    else:
        click.echo(f"error: {what.text()}", err=True)
