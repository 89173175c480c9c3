"""What runs on a Dask worker: fetch a job's files from the store, run it, store its outputs.

The job arrives without the client's paths (see ``backend._portable``): the worker fetches
snapshot and inputs from the store named by ``job.store_url``, runs the command with the
local backend's code, and puts the outputs back there before returning.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from amlrun.backends.api import (
    AmlrunError,
    Environment,
    Job,
    JobResult,
    local_environment_identity,
    output_path,
    store_outputs,
)

CANCEL_POLL_S = 1.0  # how long an idle cancel watcher outlives its job


def environment_identity(env: Environment) -> str:
    """The local backend's identity of ``env``, resolved on this worker's interpreter."""
    return local_environment_identity(env)


def run_job(job: Job, cancel_event: str) -> JobResult:
    """Run ``job`` in a fresh folder; ``cancel_event`` names the client's Ctrl-C event."""
    from distributed import get_worker

    from amlrun.backends.api import open_store, prepare_workdir, run_prepared

    worker = get_worker()
    local = Path(worker.local_directory)
    started = time.perf_counter()
    with _explained(job, "fetch the snapshot and inputs from"):
        store = open_store(job.store_url, workspace=local)
        work = prepare_workdir(job, store, local / "amlrun")
    if job.tracking_dir is not None:  # the client's folder is not here: bring it back
        job = replace(job, tracking_dir=work / "mlruns")
    try:
        inputs = {name: inp.fetched_path(work) for name, inp in job.inputs.items()}
        outputs = {name: output_path(work, name) for name in job.outputs}
        fetched = time.perf_counter()
        with _cancel_from(cancel_event, worker) as cancel:
            code, log, seconds = run_prepared(job, work / "code", inputs, outputs, cancel)
        ran = time.perf_counter()
        with _explained(job, "write its outputs to"):
            produced = store_outputs(store, code, outputs)
            tracking = _tracking(store, job.tracking_dir) if code == 0 else {}
        return JobResult(
            exit_code=code,
            duration_s=seconds,
            outputs=produced,
            log=log,
            backend="dask",
            detail={
                "worker": worker.address,
                "fetch_s": round(fetched - started, 4),
                "store_s": round(time.perf_counter() - ran, 4),
            },
            tracking=tracking,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _tracking(store: Any, folder: Path | None) -> dict:
    """The step's mlflow file store, put into the store for the client to restore."""
    if folder is None or not folder.is_dir():
        return {}
    return store.put_tree(folder, move=True)[0]


@contextmanager
def _explained(job: Job, doing: str) -> Iterator[None]:
    """A store failing on a worker is nearly always reach or credentials: say so, and where."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, AmlrunError) and not isinstance(exc, OSError):
            raise  # already a user-facing message (e.g. a corrupt manifest), not about reach
        raise AmlrunError(
            f"step {job.step}: a dask worker could not {doing} the store {job.store_url} "
            f"({type(exc).__name__}: {exc}). Workers use the store themselves, so every worker "
            "must reach it with its own credentials: a shared folder mounted at the same path "
            "on all machines, or an object store (s3://...) with credentials set on the workers."
        ) from exc


@contextmanager
def _cancel_from(name: str, worker: Any) -> Iterator[threading.Event]:
    """A local mirror of the client's cancel event, which ``run_prepared`` polls cheaply.

    It is also set when nobody wants the task any more: a killed amlrun's connection
    closes, the scheduler releases its tasks, and the command must not run on regardless.
    """
    from distributed import Event

    remote = Event(name, client=worker.client)
    cancel, done = threading.Event(), threading.Event()

    def follow() -> None:
        while not done.is_set():
            if remote.wait(CANCEL_POLL_S) or _abandoned(worker, name):
                cancel.set()
                return

    threading.Thread(target=follow, name=f"cancel-{name}", daemon=True).start()
    try:
        yield cancel
    finally:
        done.set()  # not joined: the watcher leaves after its current poll, off the job's time


def _abandoned(worker: Any, key: str) -> bool:
    """Whether the scheduler released this task (its client is gone)."""
    task = worker.state.tasks.get(key)
    return task is None or task.state in ("cancelled", "released", "forgotten")
