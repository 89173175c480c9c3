"""Turning an unexpected exception into a failed step with a truthful one-line reason.

A bug in a backend, a store or a key computation must fail the step it happened in, say
why on the terminal in one line, and keep the full traceback in the step's log, where a
user reporting the bug finds it. Expected errors (AmlrunError) already read well.
"""

from __future__ import annotations

from pathlib import Path

from amlrun.errors import AmlrunError


def describe(exc: BaseException) -> str:
    """One line: the exception and the root cause it was raised from, if different."""
    if isinstance(exc, AmlrunError):
        return str(exc)
    text = _one(exc)
    root = exc
    while root.__cause__ is not None or (
        root.__context__ is not None and not root.__suppress_context__
    ):
        root = root.__cause__ or root.__context__  # type: ignore[assignment]
    if root is not exc and _one(root) != text:
        text += f" (caused by {_one(root)})"
    return text


def _one(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def keep_traceback(log_path: Path, exc: BaseException) -> None:
    """Append ``exc``'s traceback to a step log (created if the step never started)."""
    import traceback

    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"\namlrun: the step failed on an exception: {describe(exc)}\n")
        log.write("".join(traceback.format_exception(exc)))
