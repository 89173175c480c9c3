"""Recreating the working folder of a recorded step, for ``amlrun module debug RUN STEP``.

The run records keep the step's key and its components, not its files, so the step is planned
again from the run's pipeline file: when the key computed now equals the recorded one, the
snapshot, input contents, parameters and environment are exactly those of the recorded run
(the key hashes all of them); otherwise the folder would not be the recorded one, so it is
refused with what changed. The snapshot is copied from amlrun's staged snapshot or the code
folder (by content hash) or else fetched from the store's blobs, exactly as the local backend
stages it; upstream outputs come from the store; outputs start empty.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amlrun.backends.job import Job, output_path
from amlrun.backends.local import stage_snapshot
from amlrun.backends.venvs import bin_dir_for
from amlrun.engine.jobs import assemble_job
from amlrun.engine.key import explain_change
from amlrun.engine.materialize import Staging
from amlrun.engine.runner import Engine
from amlrun.errors import SpecError


@dataclass(frozen=True)
class DebugFolder:
    """A recreated step: where it is and everything its command sees."""

    root: Path
    job: Job
    inputs: dict[str, Path]
    outputs: dict[str, Path]
    env: dict[str, str]  # variables the step sets (on top of the user's environment)
    argv: list[str]

    @property
    def workdir(self) -> Path:
        return self.root / "code"

    def environ(self) -> dict[str, str]:
        """The full environment of the command, as the local backend builds it."""
        path = f"{bin_dir_for(self.job.environment)}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, **self.env, "PATH": path, "PYTHONUNBUFFERED": "1"}

    def pdb_environ(self) -> dict[str, str]:
        """The environment with ``python`` meaning ``python -m pdb`` (a shim first on PATH).

        A shim rather than rewriting the command: v2 commands run through ``/bin/sh -c``, so
        the entry script is only known to the shell.
        """
        env = self.environ()
        real = shutil.which("python", path=env["PATH"]) or sys.executable
        shims = self.root / "pdb"
        shims.mkdir(exist_ok=True)
        for name in ("python", "python3"):
            shim = shims / name
            shim.write_text(f'#!/bin/sh\nexec {shlex.quote(real)} -m pdb "$@"\n')
            os.chmod(shim, 0o755)
        return {**env, "PATH": f"{shims}{os.pathsep}{env['PATH']}"}

    def script(self) -> str:
        """A shell script that runs the step again, by hand."""
        lines = ["#!/bin/sh", f"cd {shlex.quote(str(self.workdir))}"]
        lines += [f"export {k}={shlex.quote(v)}" for k, v in sorted(self.env.items())]
        lines.append(f'export PATH={shlex.quote(str(bin_dir_for(self.job.environment)))}:"$PATH"')
        lines.append(f"exec {shlex.join(self.argv)}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class RecordedStep:
    """What the run records hold about one step of one run."""

    run_id: str
    source: str  # the pipeline file the run ran
    step: str
    key: str
    components: dict
    snapshot_files: dict[str, str]  # relpath -> hash of the recorded snapshot
    sets: tuple[str, ...] = ()  # the run's --set values
    cwd: str | None = None  # the folder they were given in (relative data paths)


def recorded_step(ws: Any, run_id: str, step: str) -> RecordedStep:
    """``step`` of run ``run_id`` (a prefix or suffix of its id) from .amlrun/runs.sqlite."""
    from amlrun.runs.db import RunDB

    path = ws.dir / "runs.sqlite"
    if not path.is_file():
        raise SpecError(f"no run '{run_id}' is recorded", fix="see amlrun runs list")
    db = RunDB(path)
    try:
        row = db.run(run_id)
        if row is None:
            raise SpecError(f"no run '{run_id}' is recorded", fix="see amlrun runs list")
        records = db.step_records(row[0])
        _, key, components = records.get(step) or ("", None, None)
        if not components:
            names = ", ".join(records) or "(none recorded)"
            raise SpecError(
                f"run {row[0]} has no recorded step '{step}'", fix=f"use one of: {names}"
            )
        files = db.tree_files(components.get("snapshot") or "")
        invocation = db.invocation(row[0])
    finally:
        db.close()
    sets = tuple(invocation.get("sets") or ())
    return RecordedStep(row[0], row[5], step, key, components, files, sets, invocation.get("cwd"))


def recreate(ws: Any, pipeline: Any, store: Any, rec: RecordedStep, root: Path) -> DebugFolder:
    """Plan ``pipeline`` again and lay out the step's folder in ``root`` (new or empty)."""
    step = rec.step
    if step not in pipeline.steps:
        raise SpecError(
            f"{rec.source} has no step '{step}' any more",
            fix="restore the pipeline file as run " + rec.run_id + " ran it",
        )
    engine = Engine(pipeline, workspace=ws, store=store)
    outcome = {o.name: o for o in engine.plan()}[step]
    plan = engine.planned
    if outcome.status in ("blocked", "unknown"):
        raise SpecError(f"step '{step}' cannot be recreated: {outcome.reason}")
    parts = plan.parts[step]
    if parts.key != rec.key:
        files = (rec.snapshot_files, plan.snapshot_files[parts.snapshot])
        why = explain_change(rec.components, parts, files)
        raise SpecError(
            f"step '{step}' is no longer what run {rec.run_id} ran: {why}",
            fix="restore what changed (or pass the run's --set values) to debug that run",
        )
    if root.exists() and any(root.iterdir()):
        raise SpecError(f"{root} already exists and is not empty", fix="choose a new -o DIR")
    backend = engine.backends.for_step(pipeline.steps[step])
    if backend.name != "local":
        raise SpecError(
            f"step '{step}' runs on the {backend.name} backend; only local steps are recreated",
            fix="map its compute to the local backend in [tool.amlrun.compute] to debug it here",
        )
    job = assemble_job(
        pipeline.steps[step], plan, Staging(ws.dir, store), backend, stream_logs=True
    )
    root.mkdir(parents=True, exist_ok=True)
    stage_snapshot(job, store, root / "code")
    inputs = {}
    for name, inp in job.inputs.items():
        inputs[name] = inp.path if inp.path is not None else inp.fetched_path(root)
        if inp.path is None:
            store.materialize(inp.entries, inputs[name], inp.is_file)
    outputs = {name: output_path(root, name) for name in job.outputs}
    for name, path in outputs.items():
        port = job.module.output(name)
        (path.parent if port is not None and port.is_file else path).mkdir(parents=True)
    env = {**dict(job.environment.variables), **job.env_vars}
    argv = job.argv({k: str(v) for k, v in {**inputs, **outputs}.items()})
    folder = DebugFolder(root, job, inputs, outputs, env, argv)
    (root / "run.sh").write_text(folder.script(), encoding="utf-8")
    os.chmod(root / "run.sh", 0o755)
    return folder
