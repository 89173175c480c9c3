"""Checking a submission against the published interface, then queueing it.

:func:`submit` is what the API, resubmissions and schedules call inside the server process
(``submit(app.state.amlrun, Submission(...), by=...)``); it returns at once with the run id,
the dispatcher starts the run. Values are checked here, before anything is queued, so a
caller hears about an unknown parameter or a wrong type as a 422 naming the field.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from amlrun.errors import AmlrunError, SpecError
from amlrun.server import queue
from amlrun.server.queue import Submission

_TYPES: dict[str, tuple[type, ...]] = {
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "string": (str,),
    "any": (str, int, float, bool),
}


class Invalid(AmlrunError):
    """A submission the API answers with 422: ``errors`` as FastAPI's (loc, msg, type)."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors))
        self.errors = errors


class NotFound(AmlrunError):
    """No published pipeline of that name (404)."""


class Refused(AmlrunError):
    """A disabled version (409)."""


def _error(loc: list, msg: str, kind: str) -> dict[str, Any]:
    return {"loc": ["body", *loc], "msg": msg, "type": kind}


def _type_ok(kind: str, value: Any) -> bool:
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, _TYPES.get(kind, _TYPES["any"]))


def check(root: Path, sub: Submission) -> Submission:
    """``sub`` with its version resolved and data inputs made absolute; Invalid, NotFound
    or Refused otherwise."""
    version, interface = _interface(root, sub)
    errors, inputs = _check_values(root, interface, sub)
    if errors:
        raise Invalid(errors)
    # the version is resolved now: moving the default later does not change a queued run
    return replace(sub, version=version, parameters=dict(sub.parameters), inputs=inputs)


def _interface(root: Path, sub: Submission) -> tuple[str | None, dict[str, Any]]:
    """(version, interface) of the published pipeline, or of the pipeline file."""
    from amlrun.published import interface_of
    from amlrun.registry.pipelines import find_version, pipeline_registry

    if sub.file is not None:
        path = Path(os.path.realpath(root / sub.file))
        if not path.is_relative_to(root.resolve()) or not path.is_file():
            raise NotFound(f"no pipeline file {sub.file} in the workspace")
        return None, interface_of(path)
    registry = pipeline_registry(root)
    if not registry.versions(sub.pipeline):
        raise NotFound(f"no published pipeline named '{sub.pipeline}'")
    try:
        record = find_version(registry, sub.pipeline, sub.version)
    except SpecError as exc:
        if "disabled" in exc.message:
            raise Refused(exc.message) from None
        raise Invalid([_error(["version"], exc.message, "value_error")]) from None
    return record.version, record.interface


def _check_values(
    root: Path, interface: dict[str, Any], sub: Submission
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """(errors, data inputs made absolute) of the submitted values."""
    errors = []
    declared = interface["parameters"]
    for name, value in sub.parameters.items():
        spec = declared.get(name)
        if spec is None:
            have = ", ".join(declared) or "none"
            errors.append(_error(["parameters", name], f"unknown parameter (has: {have})", "extra"))
        elif not _type_ok(spec["type"], value):
            errors.append(_error(["parameters", name], f"must be {spec['type']}", "type_error"))
    inputs = {}
    for name, value in sub.inputs.items():
        if name not in interface["inputs"]:
            have = ", ".join(interface["inputs"]) or "none"
            errors.append(_error(["inputs", name], f"unknown data input (has: {have})", "extra"))
        elif not isinstance(value, str) or not value:
            errors.append(_error(["inputs", name], "must be a path or URL", "type_error"))
        elif (local := _local_input(root, value)) is None:
            errors.append(
                _error(
                    ["inputs", name],
                    "a local path must be inside the workspace (and not in .amlrun/)",
                    "value_error",
                )
            )
        else:
            inputs[name] = local
    return errors, inputs


def _local_input(root: Path, value: str) -> str | None:
    """A URL as it is; a local path made absolute, if it stays inside the workspace (a
    submit token must not make a step read the server's other files)."""
    if "://" in value:
        return value
    path = Path(os.path.realpath(root / value))
    inside = path.is_relative_to(root.resolve()) and not path.is_relative_to(
        root.resolve() / ".amlrun"
    )
    return str(path) if inside else None


def submit(
    state: Any,
    sub: Submission,
    *,
    by: str | None = None,
    idempotency_key: str | None = None,
    resubmit_of: str | None = None,
) -> str:
    """Check and queue ``sub``; the run id (the first one for a repeated Idempotency-Key)."""
    checked = check(state.root, sub)
    run_id, created = queue.enqueue(
        state.amlrun_dir, checked, by=by, idempotency_key=idempotency_key, resubmit_of=resubmit_of
    )
    if created and state.dispatcher is not None:
        state.dispatcher.wake()
    return run_id
