"""Port, step and pipeline names: validated at load, mapped to safe folder names.

A name becomes a path in many places (a work folder's ``outputs/<name>``, the store's
``.amlrun/out/<key>/<name>``, logs, container mounts), so no name may reach outside the folder
it is put in. v2 files follow Azure ML's identifier rules and are checked when they load; v1
files use display names ("Input data") that stay accepted and are mapped by
:func:`folder_name`, the one place a name turns into a path component.
"""

from __future__ import annotations

import re
from pathlib import Path

from amlrun.errors import SpecError
from amlrun.hashing import hash_bytes

#: v2 input/output names: a Python identifier (Azure ML binds them as ``inputs.<name>``)
PORT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,254}")
#: v2 job (step) and pipeline names: letters, digits, ``_`` and ``-`` (``train-job``)
JOB_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,254}")
_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")


def check_name(name: str, kind: str, *, file: Path | None, line: int | None, field: str) -> None:
    """A v2 ``kind`` ("port", "step", "pipeline") name follows the identifier rules, or fails."""
    rule = PORT_NAME if kind == "port" else JOB_NAME
    if rule.fullmatch(name):
        return
    allowed = "letters, digits and _" if kind == "port" else "letters, digits, _ and -"
    raise SpecError(
        f"{kind} name '{name}' is not a valid identifier",
        file=file,
        line=line,
        field=field,
        fix=f"start it with a letter or _ and use only {allowed} (at most 255 characters)",
    )


def folder_name(name: str) -> str:
    """``name`` as one safe path component: kept when already safe, else mapped injectively.

    ``Input data`` becomes ``Input_data-<hash>``: the hash keeps two names that map to the
    same text apart, and no result can be ``.``, ``..``, empty or contain a separator.
    """
    if _SAFE.fullmatch(name) and not name.endswith("."):
        return name
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".")[:80] or "_"
    return f"{cleaned}-{hash_bytes(name.encode())[:8]}"
