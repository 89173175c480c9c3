"""The Dask backend: runs each step as one task on an existing Dask cluster.

The client ships the job (plain data) to a worker; the worker fetches the snapshot and
inputs from the step's store, runs the command with the local backend's code, and puts the
outputs back into the store. Nothing but the store is shared, so the store must be one the
workers can reach.
"""

from __future__ import annotations

import os
import threading
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from amlrun.backends.api import AmlrunError, Availability, Backend, Environment, Job, JobResult
from amlrun_dask.worker import environment_identity, run_job

if TYPE_CHECKING:
    from distributed import Client

ENV_SCHEDULER = "AMLRUN_DASK_SCHEDULER"
CONNECT_TIMEOUT_S = 10.0
PROBE_TIMEOUT_S = 3.0  # availability() must answer quickly even when the scheduler is down
POLL_S = 0.2  # how often a waiting execute() looks at the user's cancel event
CANCEL_GRACE_S = 10.0  # time the worker gets to stop the command and report its exit code


class DaskBackend(Backend):
    """Steps as tasks on a Dask cluster. Options: ``scheduler`` (address), ``timeout`` (s)."""

    name = "dask"
    description = "an existing Dask cluster; workers fetch from and write to the store"

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self._lock = threading.Lock()  # steps run in parallel threads and share one client
        self._identity_lock = threading.Lock()
        self._client: Client | None = None
        self._unreachable: str | None = None  # why connecting failed, once per run
        self._identities: dict[str, str] = {}  # repr(env) -> identity, asked once per run

    # ------------------------------------------------------------------ options

    @property
    def scheduler(self) -> str | None:
        return self.options.get("scheduler") or os.environ.get(ENV_SCHEDULER) or None

    @property
    def timeout(self) -> float:
        """Seconds to wait for the scheduler (connecting, and the identity query)."""
        return float(self.options.get("timeout") or CONNECT_TIMEOUT_S)

    # ------------------------------------------------------------------ Backend

    def availability(self) -> Availability:
        if not self.scheduler:
            return Availability(False, _NO_SCHEDULER)
        try:
            client = self._connect(min(self.timeout, PROBE_TIMEOUT_S))
        except AmlrunError as exc:
            return Availability(False, str(exc))
        workers = len(client.nthreads())
        if not workers:
            return Availability(False, f"no workers connected to the scheduler at {self.scheduler}")
        return Availability(True, f"{workers} worker(s) at {self.scheduler}")

    def environment_identity(self, env: Environment) -> str:
        """The local backend's identity, resolved on a worker, so results are shared with it.

        Workers are assumed alike (same interpreter and platform); one of them answers.
        """
        with self._identity_lock:
            if repr(env) not in self._identities:
                client = self._connect(self.timeout)
                key = f"amlrun-identity-{uuid.uuid4().hex}"
                future = client.submit(environment_identity, env, key=key, pure=False)
                self._identities[repr(env)] = future.result(timeout=self.timeout)
            return self._identities[repr(env)]

    def execute(self, job: Job, cancel: Any = None) -> JobResult:
        store_url = self._worker_store_url(job.store_url)
        from distributed import Event

        client = self._connect(self.timeout)
        key = f"amlrun-{job.key}-{uuid.uuid4().hex}"
        finished = threading.Event()
        future = client.submit(run_job, _portable(job, store_url), key, key=key, pure=False)
        future.add_done_callback(lambda _: finished.set())
        try:
            while not finished.wait(POLL_S):
                if cancel is not None and cancel.is_set():
                    return self._cancel(job, future, Event(key, client=client), finished)
            return future.result()
        finally:
            future.release()

    def _cancel(self, job: Job, future: Any, stop: Any, finished: threading.Event) -> JobResult:
        """Ask the worker to stop the command; drop the task if it does not answer in time."""
        stop.set()
        try:
            if finished.wait(CANCEL_GRACE_S):
                return future.result()
            future.cancel()
            raise AmlrunError(
                f"step {job.step} was cancelled; its dask task {future.key} did not stop within "
                f"{CANCEL_GRACE_S:.0f}s and was cancelled on the scheduler"
            )
        finally:
            stop.clear()

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # ------------------------------------------------------------------ helpers

    def _worker_store_url(self, store_url: str) -> str:
        """The store as a worker must open it; refuses a store only this process can see."""
        from amlrun.backends.api import open_store

        workspace = Path(self.options.get("workspace") or Path.cwd())
        url = open_store(store_url, workspace).url  # folders made absolute, layers kept
        if any(layer.split("://", 1)[0].lower() == "memory" for layer in url.split(",")):
            raise AmlrunError(
                f"the dask backend cannot use the store {store_url}: dask workers fetch the "
                "snapshot and inputs from the store and write outputs back to it, and a "
                "memory:// store exists only inside this process. Use a store every worker "
                "can reach: a shared folder mounted at the same path on all machines, or an "
                "s3:// store."
            )
        return url

    def _connect(self, timeout: float) -> Client:
        """One client per backend, opened on first use; a run gives up on the first failure."""
        with self._lock:
            if self._client is not None:
                return self._client
            if self._unreachable is not None:
                raise AmlrunError(self._unreachable)
            address = self.scheduler
            if not address:
                raise AmlrunError(_NO_SCHEDULER)
            from distributed import Client

            try:
                self._client = Client(address, timeout=timeout, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                message = (
                    f"cannot reach the dask scheduler at {address}: {exc}. Start one "
                    f"(dask scheduler) or point the 'scheduler' option or {ENV_SCHEDULER} at it"
                )
                if timeout >= self.timeout:  # a short probe failing is no reason to stop trying
                    self._unreachable = message
                raise AmlrunError(message) from exc
            return self._client


_NO_SCHEDULER = (
    f"no dask scheduler configured: set the dask backend's 'scheduler' option "
    f"(e.g. tcp://127.0.0.1:8786) or the {ENV_SCHEDULER} environment variable"
)


def _portable(job: Job, store_url: str) -> Job:
    """The job without this machine's paths, so a worker cannot use them by mistake."""
    return replace(
        job,
        snapshot_dir=None,
        inputs={name: replace(inp, path=None) for name, inp in job.inputs.items()},
        store_url=store_url,
        stream_logs=False,  # the log comes back with the result; echoing would go to the worker
        on_output=None,
    )
