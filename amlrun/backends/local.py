"""The local backend: run a step's command as a subprocess on this machine.

``python`` in a command means the interpreter amlrun runs on, or a cached virtualenv for a
pip/conda environment (see :mod:`amlrun.backends.venvs`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from amlrun.backends import procs
from amlrun.backends.base import Availability, Backend
from amlrun.backends.distributions import distributions_digest
from amlrun.backends.venvs import (
    bin_dir_for,
    interpreter_identity,
    needs_venv,
    pip_requirements,
    user_cache_dir,
)
from amlrun.backends.workdirs import new_workdir, remove_later, wait_removed
from amlrun.hashing import hash_json
from amlrun.spec.model import Environment

if TYPE_CHECKING:  # a null run asks this backend what it runs, and runs no job
    from amlrun.backends.job import Job, JobResult
    from amlrun.spec.render import Rendered

__all__ = ["LocalBackend", "pip_requirements", "prepare_workdir", "run_prepared", "stage_snapshot"]


def run_prepared(
    job: Job,
    workdir: Path,
    inputs: dict[str, Path],
    outputs: dict[str, Path],
    cancel: threading.Event | None = None,
    *,
    log_file: BinaryIO | None = None,
) -> tuple[int, bytes, float]:
    """Run ``job``'s command in a prepared folder; returns (exit code, log bytes, seconds).

    Output folders (and parents of file outputs) are created first, as Azure ML does.
    """
    for name, path in outputs.items():
        port = job.module.output(name)
        (path.parent if port is not None and port.is_file else path).mkdir(
            parents=True, exist_ok=True
        )
    paths: dict[str, Any] = {k: str(v) for k, v in {**inputs, **outputs}.items()}
    rendered = job.rendered(paths)
    env = _step_env(job, workdir)
    start = time.perf_counter()
    chunks: list[bytes] = []
    try:
        group = _start(
            rendered,
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        msg = f"command not found: {rendered.argv[0]}\n".encode()
        return 127, msg, time.perf_counter() - start
    stopper = procs.watch(group, cancel, job.timeout_s)
    out = group.proc.stdout
    assert out is not None
    for chunk in iter(lambda: out.read1(65536), b""):
        chunks.append(chunk)
        if log_file is not None:
            log_file.write(chunk)
            log_file.flush()
        if job.on_output is not None:
            job.on_output(chunk)
        elif job.stream_logs:
            _echo(chunk)
    code = group.wait()
    stopper.set()
    if code < 0 and job.timeout_s and time.perf_counter() - start >= job.timeout_s:
        chunks.append(f"\namlrun: timed out after {job.timeout_s} s\n".encode())
    return code, b"".join(chunks), time.perf_counter() - start


def _step_env(job: Job, workdir: Path) -> dict[str, str]:
    """amlrun's environment plus the step's variables, its ``python`` first on PATH, and
    mlflow pointed at the run's store."""
    from amlrun.backends.job import tracking_env

    env = dict(os.environ)
    env.update(dict(job.environment.variables))
    env.update(job.env_vars)
    env["PATH"] = f"{bin_dir_for(job.environment)}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYTHONUNBUFFERED", "1")
    env["PWD"] = str(workdir)  # as the shell sets it, for a command started without one
    if job.tracking_dir is not None:
        job.tracking_dir.parent.mkdir(parents=True, exist_ok=True)  # mlflow makes the store
        env.update(tracking_env(job.tracking_dir.resolve()))
    return env


def _start(rendered: Rendered, **popen: Any) -> procs.Group:
    """Start a command of plain words without ``/bin/sh`` (one process less, ~1 ms a step).

    If the program cannot be executed that way (not found, no execute bit, no ``#!`` line)
    nothing has run yet, so the shell is started instead: it reports or runs it exactly as
    before (``not found`` is exit 127, a script without ``#!`` runs as a shell script).
    """
    if rendered.plain is not None:
        try:
            return procs.Group(rendered.plain, **popen)
        except OSError:
            pass
    return procs.Group(rendered.argv, **popen)


def _echo(chunk: bytes) -> None:
    """Stream a command's output; doit's stdout replacement may be text-only."""
    raw = getattr(sys.stdout, "buffer", None)
    if raw is not None:
        raw.write(chunk)
        raw.flush()
    else:
        sys.stdout.write(chunk.decode(errors="replace"))
        sys.stdout.flush()


class LocalBackend(Backend):
    """Runs commands as subprocesses of amlrun, in a copy of the snapshot."""

    name = "local"
    description = "subprocess on this machine (current interpreter or a cached virtualenv)"

    def availability(self) -> Availability:
        return Availability(True, f"{interpreter_identity()} at {sys.executable}")

    def environment_identity(self, env: Environment) -> str:
        """The interpreter and what is installed in it (a cached venv sees it too)."""
        installed = distributions_digest(user_cache_dir())
        if needs_venv(env):
            reqs = hash_json(pip_requirements(env))[:16]
            return f"venv:{reqs}:{interpreter_identity()}:{installed}"
        return f"{interpreter_identity()}:{installed}"

    def execute(self, job: Job, cancel: Any = None) -> JobResult:
        from amlrun.backends.job import JobResult, output_path, store_outputs
        from amlrun.cache.store import open_store

        workspace = Path(self.options.get("workspace") or Path.cwd())
        store = open_store(job.store_url, workspace)
        root = Path(self.options.get("tmp") or workspace / ".amlrun" / "tmp")
        work = prepare_workdir(job, store, root)
        try:
            outputs = {name: output_path(work, name) for name in job.outputs}
            inputs = {
                n: i.fetched_path(work) if i.path is None else i.path for n, i in job.inputs.items()
            }
            code, log, seconds = run_prepared(job, work / "code", inputs, outputs, cancel)
            produced = store_outputs(store, code, outputs)
            return JobResult(code, seconds, produced, log, backend=self.name)
        finally:
            remove_later(work)

    def close(self) -> None:
        """A run is over when its work folders are gone."""
        wait_removed()


def stage_snapshot(job: Job, store: Any, code: Path) -> None:
    """A private, writable copy of the job's snapshot: from its folder here, else the store."""
    code.mkdir()
    for rel, (digest, _size, mode) in job.snapshot_entries.items():
        dest = code / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = job.snapshot_dir / rel if job.snapshot_dir is not None else None
        if src is not None and src.is_file():
            shutil.copyfile(src, dest)
        else:
            dest.write_bytes(store.get_bytes(digest))
        os.chmod(dest, mode)


def prepare_workdir(job: Job, store: Any, root: Path) -> Path:
    """A fresh folder with ``code/`` (a copy of the snapshot) and store-only ``inputs/``."""
    work = new_workdir(root, job.step)
    stage_snapshot(job, store, work / "code")
    for inp in job.inputs.values():
        if inp.path is None:
            store.materialize(inp.entries, inp.fetched_path(work), inp.is_file)
    return work
