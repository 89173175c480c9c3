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
from pathlib import Path

from amlrun.backends.job import Entries, Job, JobResult
from amlrun.errors import AmlrunError
from amlrun.spec.model import Environment

CANCEL_POLL_S = 1.0  # how long an idle cancel watcher outlives its job


def environment_identity(env: Environment) -> str:
    """The local backend's identity of ``env``, resolved on this worker's interpreter."""
    from amlrun.backends.local import LocalBackend

    return LocalBackend().environment_identity(env)


def run_job(job: Job, cancel_event: str) -> JobResult:
    """Run ``job`` in a fresh folder; ``cancel_event`` names the client's Ctrl-C event."""
    from distributed import get_worker

    from amlrun.backends.local import run_prepared
    from amlrun.cache.store import open_store

    worker = get_worker()
    local = Path(worker.local_directory)
    started = time.perf_counter()
    store = open_store(job.store_url, workspace=local)
    work = _prepare(job, store, local / "amlrun")
    try:
        inputs = {name: work / "inputs" / name for name in job.inputs}
        outputs = {name: work / "outputs" / name for name in job.outputs}
        fetched = time.perf_counter()
        with _cancel_from(cancel_event, worker.client) as cancel:
            code, log, seconds = run_prepared(job, work / "code", inputs, outputs, cancel)
        ran = time.perf_counter()
        produced: dict[str, Entries] = {}
        if code == 0:
            for name, path in outputs.items():
                produced[name] = store.put_tree(path)[0] if path.exists() else {}
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
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _prepare(job: Job, store: object, root: Path) -> Path:
    """The local backend's work folder, built from the store only; says which store failed."""
    from amlrun.backends.local import prepare_workdir

    try:
        return prepare_workdir(job, store, root)
    except OSError as exc:
        raise AmlrunError(
            f"step {job.step}: a dask worker could not fetch its snapshot or inputs from the "
            f"store {job.store_url}: {exc}. Workers read them from the store, so it must be "
            "reachable from every worker (a shared folder mounted at the same path on all "
            "machines, or an s3:// store)."
        ) from exc


@contextmanager
def _cancel_from(name: str, client: object) -> Iterator[threading.Event]:
    """A local mirror of the client's cancel event, which ``run_prepared`` polls cheaply."""
    from distributed import Event

    remote = Event(name, client=client)
    cancel, done = threading.Event(), threading.Event()

    def follow() -> None:
        while not done.is_set():
            if remote.wait(CANCEL_POLL_S):
                cancel.set()
                return

    threading.Thread(target=follow, name=f"cancel-{name}", daemon=True).start()
    try:
        yield cancel
    finally:
        done.set()  # not joined: the watcher leaves after its current poll, off the job's time
