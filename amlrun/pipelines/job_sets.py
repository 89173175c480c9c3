"""``--set jobs.NAME.…``: job-level overrides applied to a v2 pipeline document before it is
loaded, as ``az ml job create --set`` does, so a real pipeline runs on other data unedited.

A path given on the command line is relative to the current folder (like ``--set inputs.x``),
not to the pipeline file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from amlrun.errors import SpecError

_PRIMITIVE = ("", "string", "number", "integer", "boolean")
_PATHLIKE = ("./", "../", "/", "azureml:", "s3://", "az://", "abfs://", "gs://")
_FIX = (
    "write --set jobs.NAME.inputs.X=VALUE, jobs.NAME.inputs.X.path=PATH, jobs.NAME.compute=C"
    " or settings.KEY=VALUE"
)


def split_job_sets(overrides: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pipeline input overrides, ``jobs.…`` and ``settings.…`` overrides)."""
    jobs = {k: v for k, v in overrides.items() if k.startswith(("jobs.", "settings."))}
    return {k: v for k, v in overrides.items() if k not in jobs}, jobs


def apply_job_sets(doc: dict, sets: dict[str, Any], path: Path) -> None:
    """Each ``jobs.NAME.inputs.X[.path]``, ``jobs.NAME.compute`` or ``settings.KEY`` (as a
    schedule's ``create_job.settings`` give them) written into ``doc``."""
    jobs = doc.get("jobs") if isinstance(doc.get("jobs"), dict) else {}
    for key, value in sets.items():
        field = f"--set {key}"
        parts = key.split(".")
        if parts[0] == "settings" and len(parts) == 2:
            if not isinstance(doc.get("settings"), dict):
                doc["settings"] = {}
            doc["settings"][parts[1]] = value
            continue
        node = jobs.get(parts[1]) if len(parts) > 2 else None
        if len(parts) > 2 and not isinstance(node, dict):
            raise SpecError(
                f"the pipeline has no job '{parts[1]}'",
                file=path,
                field=field,
                fix="use one of: " + (", ".join(map(str, jobs)) or "none"),
            )
        if parts[2:] == ["compute"]:
            node["compute"] = value
        elif len(parts) in (4, 5) and parts[2] == "inputs" and parts[4:] in ([], ["path"]):
            inputs = node.get("inputs")
            if not isinstance(inputs, dict):
                inputs = node["inputs"] = {}
            inputs[parts[3]] = _input_value(inputs.get(parts[3]), value, as_path=len(parts) == 5)
        else:
            raise SpecError(f"cannot set '{key}'", file=path, field=field, fix=_FIX)


def _input_value(current: Any, value: Any, *, as_path: bool) -> Any:
    """Data where the input held data (or ``.path`` was set, or the value looks like or is an
    existing path), resolved against the current folder; otherwise the literal value."""
    held_data = isinstance(current, dict) and (
        "path" in current
        or "dataset" in current
        or str(current.get("type", "")).lower() not in _PRIMITIVE
    )
    is_path = isinstance(value, str) and (
        as_path or held_data or value.startswith(_PATHLIKE) or os.path.exists(value)
    )
    if not is_path:
        return value
    local = "://" not in value and not value.startswith("azureml:")
    data = {"path": os.path.abspath(value) if local else value}
    if isinstance(current, dict) and current.get("type"):
        data["type"] = current["type"]
    return data
