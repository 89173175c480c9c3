"""Execution: doit's task loop over the plan, each step's backend call and what it stores.

Each step commits on its own (blobs, then its manifest), so a killed run loses nothing that
finished. A failed step stores nothing; its dependants are skipped and, unless the pipeline
says otherwise, independent branches continue.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import TYPE_CHECKING, Any

from amlrun.collector import resumed
from amlrun.engine.failures import describe
from amlrun.engine.locks import key_lock
from amlrun.engine.materialize import Staging
from amlrun.engine.plan import Plan
from amlrun.engine.stale import StaleResult
from amlrun.engine.state import StepOutcome
from amlrun.errors import AmlrunError
from amlrun.locks import LockCancelled
from amlrun.pipelines.model import Step

if TYPE_CHECKING:  # a null run assembles no job: what it takes is imported when it runs
    from amlrun.backends.base import Backend
    from amlrun.backends.job import Job, JobResult

_UNSUCCESSFUL = ("failed", "skipped", "cancelled")


class Executor:
    def __init__(
        self, plan: Plan, staging: Staging, *, reporter: Any, jobs: int, stream_logs: bool
    ) -> None:
        self.plan = plan
        self.staging = staging
        self.reporter = reporter
        self.jobs = jobs
        self.stream_logs = stream_logs
        self.cancel = threading.Event()
        self.engine_error = ""  # why doit stopped, when it failed on its own
        self._stale_lock = threading.Lock()
        self._stale_locks: dict[str, threading.Lock] = {}
        self._reran: set[str] = set()  # reused steps rerun because their data was unusable

    @property
    def records(self):
        return self.plan.records

    def report(self, out: StepOutcome) -> None:
        if self.reporter is not None:
            self.reporter.step_done(out)

    def uptodate(self, name: str) -> bool:
        """doit's question: is this step's key in the store? (computed when it is ready)"""
        out = self.plan.outcomes[name]
        if out.status == "reused":  # decided by the null-run pass
            return True
        if out.status == "failed":  # so was this (its key could not be computed)
            return False
        if self.cancel.is_set():
            out.status, out.reason = "cancelled", "run interrupted"
            return False
        step = self.plan.pipeline.steps[name]
        if step.sweep is not None:  # its trials are keyed one by one when it runs
            return False
        try:
            if self.plan.decide(step, self.plan.key(step)):
                self.report(out)
                return True
        except Exception as exc:  # e.g. an unreachable remote input: this step fails, visibly
            self.records.fail(out, exc, "cannot compute the key: ")
        return False

    def all_reusable(self) -> bool:
        """Answer doit's uptodate question for steps in order until one must run.

        When every key is in the store (a null run) nothing needs scheduling and doit is not
        even imported; otherwise doit runs everything, reusing the answers given here.
        """
        for name in self.plan.pipeline.steps:
            if not self.uptodate(name):
                out = self.plan.outcomes[name]
                if out.status != "failed":
                    out.status, out.reason = "pending", ""
                return False
        return True

    def schedule(self) -> None:
        """Run the steps through doit; what doit reports on its own fails the steps it names."""
        from amlrun.engine.doit_tasks import run_tasks

        pipeline = self.plan.pipeline
        steps = [(n, sorted(s.upstream())) for n, s in pipeline.steps.items()]
        try:
            with resumed():  # steps execute: threads, subprocesses, user code
                told = run_tasks(
                    steps,
                    self.uptodate,
                    self.execute_once,
                    jobs=self.jobs,
                    keep_going=pipeline.continue_on_step_failure,
                )
        except Exception as exc:
            self.engine_error = f"the engine (doit) failed: {describe(exc)}"
            return
        for name, message in told.failures.items():
            out = self.plan.outcomes.get(name)
            if out is not None and out.status not in ("failed", "cancelled"):
                out.status, out.reason = "failed", f"doit: {message}"
                self.report(out)
        if told.errors:
            self.engine_error = "the engine (doit) failed: " + "; ".join(told.errors)

    def execute_once(self, name: str) -> bool:
        """doit's action for step ``name``: a sweep runs its trials, any other step once."""
        step, out = self.plan.pipeline.steps[name], self.plan.outcomes[name]
        if step.sweep is not None and out.status not in ("failed", "cancelled"):
            from amlrun.engine.sweep import run_sweep

            return run_sweep(self, step, out)
        return self.run_once(step, out)

    def run_once(self, step: Step, out: StepOutcome, cancel: threading.Event | None = None) -> bool:
        """Execute a step, unless a concurrent run on this store is executing its key: then
        wait for that run and reuse what it stored (see :mod:`amlrun.engine.locks`)."""
        if out.status in ("failed", "cancelled") or not out.key:
            return self.execute(step, out, cancel)
        name = step.name
        try:
            with key_lock(self.plan.store, out.key, self.cancel) as locked:
                manifest = self.plan.stored(step, out.key) if locked else None
                if manifest is None:
                    return self.execute(step, out, cancel)
        except LockCancelled:
            out.status, out.reason = "cancelled", "run interrupted"
            self.report(out)
            return False
        except Exception as exc:  # the lock itself failed: this step fails, visibly
            self.records.fail(out, exc, "cannot take the step's key lock: ")
            self.report(out)
            return False
        self.plan.manifests[name] = manifest
        out.status, out.reason = "reused", "key stored meanwhile by a concurrent run"
        out.duration_s = 0.0
        self.report(out)
        return True

    def execute(self, step: Step, out: StepOutcome, cancel: threading.Event | None) -> bool:
        """Run ``step`` on its backend; ``cancel`` (default: the run's) stops it, and its
        ``outcome`` attribute, if it has one, is the (status, reason) the step ends with."""
        name = step.name
        if out.status in ("failed", "cancelled"):
            self.report(out)
            return False
        out.status = "running"
        started = time.perf_counter()
        try:
            backend = self.plan.backends.for_step(step)
            sink = getattr(self.reporter, "output_sink", lambda _step: None)(name)
            job = self._assemble(step, backend, sink)
            out.backend = backend.name
            if self.reporter is not None:
                self.reporter.step_started(out)
            stop = cancel or self.cancel
            result = self._run(step, job, backend, stop)
            out.log = str(self.records.write_log(name, result.log))
            out.duration_s = time.perf_counter() - started
            if stop.is_set():  # a sweep's trial stop says why it was set
                out.status, out.reason = getattr(stop, "outcome", ("cancelled", "run interrupted"))
            elif result.exit_code != 0:
                out.status = "failed"
                out.reason = f"exit code {result.exit_code}; log: {out.log}"
            else:
                self._check_inputs(step)
                self._store(job, result, backend)
                out.status = "ran"
        except Exception as exc:  # a backend bug must fail the step visibly, not vanish
            self.records.fail(out, exc, "backend error: ")
            out.duration_s = time.perf_counter() - started
        self.report(out)
        return out.status == "ran"

    def _run(self, step: Step, job: Job, backend: Backend, stop: threading.Event) -> JobResult:
        """A parallel step runs its mini-batches (each reused on its own); others run whole."""
        if job.module.kind != "parallel":
            return backend.execute(job, stop)
        from amlrun.parallel.runtime import Context, run_parallel

        logs = self.records.log_path(step.name).with_suffix("")
        reuse = self.plan.forced(step) is None
        ctx = Context(
            self.plan.parts[step.name],
            self.plan.store,
            stop,
            self.staging.dir / "tmp",
            logs,
            reuse,
        )
        result = run_parallel(job, backend, ctx)
        out = self.plan.outcomes[step.name]
        out.reason = "; ".join(filter(None, [out.reason, result.detail.get("summary")]))
        return result

    def _assemble(self, step: Step, backend: Backend, sink: Any) -> Job:
        """The step's job; a reused upstream whose data cannot be fetched is rerun first."""
        from amlrun.engine.jobs import assemble_job

        for _ in range(len(step.upstream()) + 1):
            try:
                return assemble_job(
                    step, self.plan, self.staging, backend, stream_logs=self.stream_logs,
                    on_output=sink,
                )  # fmt: skip
            except StaleResult as exc:
                self.rerun_stale(exc)
                self.plan.key(step)  # the rerun may have produced other bytes
        raise AmlrunError(f"step {step.name}: upstream results stay unusable after rerunning")

    def rerun_stale(self, exc: StaleResult) -> None:
        """Rerun a reused step whose stored data turned out missing or corrupt when fetched
        (see :mod:`amlrun.engine.stale`); ``exc`` is raised again for any other step."""
        name = exc.step
        with self._stale_lock:
            lock = self._stale_locks.setdefault(name, threading.Lock())
        with lock:
            if name in self._reran:  # another consumer got there first
                return
            out = self.plan.outcomes[name]
            if out.status != "reused" or not out.key:
                raise exc
            from amlrun.cache.manifest_cache import forget

            forget(self.plan.store, out.key)
            self._reran.add(name)
            if not self.execute(self.plan.pipeline.steps[name], out, None):
                raise AmlrunError(f"{exc}; rerunning step {name} failed too: {out.reason}")
            out.reason = f"reran: {exc}"

    def _check_inputs(self, step: Step) -> None:
        """A result is stored only under the key of what the step read: local data bound to
        an input must hash as it did when the key was computed."""
        changed = self.plan.keys.changed_input(step)
        if changed is not None:
            name, path = changed
            raise AmlrunError(
                f"input '{name}' ({path}) changed while the step ran, so its result is "
                "not stored. Fix: run again, and keep steps from writing to their inputs"
            )

    def _store(self, job: Job, result: JobResult, backend: Backend) -> None:
        """Commit a successful step: its manifest names the outputs the backend stored."""
        missing = [o for o in job.outputs if o not in result.outputs]
        if missing:
            raise AmlrunError(f"backend returned no output '{missing[0]}'")
        manifest = {
            "v": 1,
            "key": job.key,
            "step": job.step,
            "module": job.module.name,
            "outputs": {
                o: {"is_file": list(e) == [""], "entries": e} for o, e in result.outputs.items()
            },
            "duration_s": round(result.duration_s, 4),
            "backend": backend.name,
            "exit_code": 0,
            "log": self.plan.store.put_bytes(result.log),
            "created": time.time(),
            **self._explained(job.step),
        }
        from amlrun.engine.tracking import logged

        metrics = logged(job, result, self.plan.store, self.records.run_id)
        if metrics:  # a reused step shows them, with the run that produced them
            manifest["tracking"] = metrics.as_json()
        if not result.detail.get("partial"):  # a parallel step with tolerated failures
            self.plan.store.put_manifest(job.key, manifest)
        self.plan.manifests[job.step] = manifest

    def _explained(self, name: str) -> dict[str, Any]:
        """What a fresh clone needs to explain a later rerun: key components, snapshot files."""
        parts = self.plan.parts[name]
        files = self.plan.snapshot_files.get(parts.snapshot, {})
        return {"components": parts.as_dict(), "snapshot_files": files}

    def settle(self) -> None:
        """Name what never ran: skipped (an upstream did not succeed), else why it stopped."""
        outcomes, steps = self.plan.outcomes, self.plan.pipeline.steps
        unfinished = [n for n, o in outcomes.items() if o.status in ("pending", "running")]
        while unfinished:  # upstream steps first, whatever order the pipeline lists them in
            left = set(unfinished)
            ready = [n for n in unfinished if n not in steps or not steps[n].upstream() & left]
            for name in ready or unfinished:
                self._settle_one(name)
            unfinished = [n for n in unfinished if n not in (ready or unfinished)]

    def _settle_one(self, name: str) -> None:
        outcomes = self.plan.outcomes
        out = outcomes[name]
        step = self.plan.pipeline.steps.get(name)  # None: a sweep's trial
        upstream = sorted(step.upstream()) if step is not None else []
        bad = [u for u in upstream if outcomes[u].status in _UNSUCCESSFUL]
        failed = [n for n, o in outcomes.items() if o.status == "failed"]
        if bad:
            out.status, out.reason = "skipped", f"upstream {bad[0]} did not succeed"
        elif self.cancel.is_set():
            out.status, out.reason = "cancelled", "run interrupted"
        elif self.engine_error:
            out.status, out.reason = "failed", self.engine_error
            self.report(out)
        elif failed and not self.plan.pipeline.continue_on_step_failure:
            out.status = "cancelled"
            out.reason = (
                f"stopped after step {failed[0]} failed (continue_on_step_failure is false)"
            )
        else:  # nothing explains it: say so rather than guess
            out.status, out.reason = "failed", "the engine stopped before this step started"
            self.report(out)


def install_sigint(cancel: threading.Event):
    """Ctrl-C cancels running steps (their process groups are killed) instead of crashing."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    return signal.signal(signal.SIGINT, handler)
