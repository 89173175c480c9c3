"""Starting queued runs in worker processes, at most N at a time, and stopping them.

A thread of the server polls the queue (SQLite is the only thing shared with request
handlers and workers, so a submission, a restart or a second dispatcher never loses a run).
Workers are separate processes in their own process groups: a run never blocks the event
loop, and cancelling one is a SIGINT the engine turns into ``cancelled`` steps.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from amlrun.server import queue

POLL_S = 0.2
KILL_AFTER_S = 30.0  # a cancelled worker that has not stopped by then is killed


@dataclass
class Worker:
    run_id: str
    proc: subprocess.Popen
    cancelled_at: float | None = None


@dataclass
class Dispatcher:
    root: Path
    amlrun_dir: Path
    max_parallel: int = 2
    workers: dict[str, Worker] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> list[str]:
        """Mark runs a stopped server left running as interrupted; start the loop."""
        interrupted = queue.interrupt_running(self.amlrun_dir)
        for run in interrupted:
            _stop_orphan(run)
        self._thread = threading.Thread(target=self._loop, name="amlrun-dispatcher", daemon=True)
        self._thread.start()
        return [r.id for r in interrupted]

    def wake(self) -> None:
        """A submission or a cancel arrived: look now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Stop dispatching; running workers are interrupted (their runs: ``cancelled``)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        for w in self.workers.values():
            _signal(w.proc, signal.SIGTERM)
        deadline = time.monotonic() + KILL_AFTER_S
        for w in self.workers.values():
            try:
                w.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(w.proc, signal.SIGKILL)
                w.proc.wait()
            queue.finish(self.amlrun_dir, w.run_id, "interrupted", "the server stopped")

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception as exc:  # a locked or full database: say so, keep serving
                print(f"amlrun serve: dispatcher: {exc}", file=sys.stderr, flush=True)
            self._wake.wait(POLL_S)
            self._wake.clear()

    def tick(self) -> None:
        self._reap()
        self._cancel()
        while len(self.workers) < self.max_parallel and not self._stop.is_set():
            run = queue.claim_next(self.amlrun_dir)
            if run is None:
                return
            self._spawn(run.id)

    def _spawn(self, run_id: str) -> None:
        logs = self.amlrun_dir / "server" / "workers"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{run_id}.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "amlrun.server.worker", str(self.root), run_id],
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "AMLRUN_WORKSPACE": str(self.root)},
            )
        queue.set_pid(self.amlrun_dir, run_id, proc.pid)
        self.workers[run_id] = Worker(run_id, proc)

    def _reap(self) -> None:
        for run_id, w in list(self.workers.items()):
            code = w.proc.poll()
            if code is None:
                continue
            del self.workers[run_id]
            log = self.amlrun_dir / "server" / "workers" / f"{run_id}.log"
            queue.finish(  # a no-op when the worker recorded its own end
                self.amlrun_dir,
                run_id,
                "cancelled" if w.cancelled_at else "failed",
                f"the worker process exited with code {code}; see {log}",
            )

    def _cancel(self) -> None:
        for run in queue.cancel_requested(self.amlrun_dir):
            w = self.workers.get(run.id)
            if w is None:
                continue
            if w.cancelled_at is None:
                w.cancelled_at = time.monotonic()
                _signal(w.proc, signal.SIGINT)
            elif time.monotonic() - w.cancelled_at > KILL_AFTER_S:
                _signal(w.proc, signal.SIGKILL)


def _signal(proc: subprocess.Popen, sig: int) -> None:
    """SIGINT (cancel) or SIGTERM (server stopping) to the worker alone, which stops its
    steps; SIGKILL to its whole group."""
    try:
        if sig == signal.SIGKILL:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        pass


def _stop_orphan(run: queue.QueuedRun) -> None:
    """A worker of a server that died may still run: stop it if it is ours for ``run``."""
    if not run.pid:
        return
    try:
        cmdline = Path(f"/proc/{run.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return
    if b"amlrun.server.worker" in cmdline and run.id.encode() in cmdline:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(run.pid, signal.SIGKILL)
