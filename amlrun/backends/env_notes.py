"""What a run says once about environments the local backend cannot give as written.

Each note names the environment, not the step, so a pipeline whose steps share one says it
once (the backends keep distinct notes only).
"""

from __future__ import annotations

import re
import sys

from amlrun.backends.venvs import needs_venv
from amlrun.spec.model import Environment

#: environments the local backend cannot give: it runs them on the current interpreter
NOT_LOCAL = ("reference", "image", "build")
_PIN = re.compile(r"python\s*==?\s*(\d+(?:\.\d+)*)$")


def local_notes(env: Environment) -> list[str]:
    """The notes for ``env`` on the local backend (none when it is given as written)."""
    notes = []
    if env.kind == "reference":
        from amlrun.registry.curated import TABLE, mapping_line  # not for the common case
        from amlrun.registry.refs import environment_ref

        ref = environment_ref(env.reference or "")
        name = ref.name if ref is not None else env.reference or ""
        notes.append(
            f"environment {name} has no local definition and runs on the current interpreter "
            f"(to pin it, add to {TABLE}: {mapping_line(name)})"
        )
    elif env.kind in NOT_LOCAL:
        notes.append(f"environment {env.describe()} runs on the current interpreter")
    pin = python_pin(env)
    if pin and needs_venv(env) and not _honoured(pin):
        here = ".".join(str(n) for n in sys.version_info[:3])
        notes.append(
            f"conda pins python={pin}, which this machine cannot honour: its steps run on "
            f"Python {here} (use --backend docker, or pin python={here.rsplit('.', 1)[0]})"
        )
    return notes


def _honoured(pin: str) -> bool:
    parts = pin.split(".")
    return parts == [str(n) for n in sys.version_info[: len(parts)]]


def python_pin(env: Environment) -> str | None:
    """The ``python=X.Y[.Z]`` a conda specification asks for, if any."""
    for dep in (env.conda or {}).get("dependencies") or []:
        if isinstance(dep, str) and (m := _PIN.match(dep.strip())):
            return m[1]
    return None
