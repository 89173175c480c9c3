"""Paths as an exported file should spell them: relative to where the file is written."""

from __future__ import annotations

import os
from pathlib import Path

from amlrun.errors import SpecError
from amlrun.pipelines.model import Step


def relative(target: str | Path, dest_dir: Path) -> str:
    """``target`` relative to ``dest_dir`` in POSIX form, ``./``-prefixed as Azure ML writes it."""
    rel = Path(os.path.relpath(Path(target).resolve(), dest_dir.resolve())).as_posix()
    return rel if rel.startswith("../") else f"./{rel}"


def spec_file(step: Step) -> Path:
    """The spec file a step's module was loaded from: exports reference it, never copy it."""
    module = step.module
    if module is None or module.source is None or module.source.suffix == ".py":
        if step.blocked:
            why, fix = step.blocked, "export a pipeline whose jobs all run locally"
        else:
            why = "its module has no spec file (a Python function module)"
            fix = "write the module as a spec file (amlrun module build) and load it from there"
        raise SpecError(
            f"step '{step.name}' cannot be exported: {why}",
            file=step.source,
            line=step.line,
            fix=fix,
        )
    return module.source


def job_name(step_name: str) -> str:
    """Flattened nested steps are named ``outer/inner``; a job name cannot hold ``/``."""
    return step_name.replace("/", "__")


def own_spec(step: Step) -> bool:
    """Whether the step's spec file describes only its module (else it is the pipeline file)."""
    return not step.module.format.endswith("pipeline") and spec_file(step) != step.source
