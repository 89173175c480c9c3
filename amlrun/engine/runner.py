"""Running a pipeline: plan keys, reuse what the store has, run the rest on backends.

Each step commits on its own (blobs, then its manifest), so a killed run loses nothing that
finished. A failed step stores nothing; its dependants are skipped and, unless the pipeline
says otherwise, independent branches continue.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import threading
import time
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amlrun.backends.base import Backend
from amlrun.backends.job import Job, JobInput
from amlrun.backends.workdirs import remove_stale
from amlrun.destinations import Destinations
from amlrun.engine.failures import describe, keep_traceback
from amlrun.engine.key import KeyParts, explain_change
from amlrun.engine.keys import KeyCalculator, effective_env_vars
from amlrun.engine.locks import key_lock
from amlrun.engine.materialize import (
    WantedOutput,
    destinations_for,
    materialize_outputs,
    wanted_outputs,
)
from amlrun.engine.state import StepOutcome
from amlrun.errors import AmlrunError, SpecError
from amlrun.hashing import StatCache
from amlrun.locks import LockCancelled
from amlrun.pipelines.model import Pipeline, Step
from amlrun.spec.names import folder_name
from amlrun.workspace import Workspace


@dataclass
class RunResult:
    run_id: str
    pipeline: Pipeline
    steps: list[StepOutcome]
    outputs: dict[str, Path]

    @property
    def ok(self) -> bool:
        return all(s.status in ("ran", "reused") for s in self.steps)

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "pipeline": self.pipeline.name,
            "steps": [s.as_json() for s in self.steps],
            "outputs": {k: str(v) for k, v in self.outputs.items()},
        }

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for s in self.steps:
            counts[s.status] = counts.get(s.status, 0) + 1
        return ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))


class Engine:
    def __init__(
        self,
        pipeline: Pipeline,
        *,
        workspace: Workspace,
        store: Any,
        backend: str | None = None,
        backend_options: dict[str, Any] | None = None,
        jobs: int = 1,
        force: Iterable[str] = (),
        reporter: Any = None,
        stream_logs: bool = False,
        output_paths: dict[str, str] | None = None,
        force_output: bool = False,
    ) -> None:
        self.pipeline = pipeline
        self.ws = workspace
        self.store = store
        self.jobs = jobs
        self.force = set(force)
        unknown = self.force - set(pipeline.steps)
        if unknown:
            raise SpecError(
                f"--force names unknown step '{sorted(unknown)[0]}'",
                fix="use one of: " + ", ".join(pipeline.steps),
            )
        self.reporter = reporter
        self.stream_logs = stream_logs
        self.backend_override = backend
        self.backend_options = backend_options or {}
        self.output_overrides = output_paths or {}
        self.force_output = force_output
        self.statcache = StatCache(workspace.statcache_path)
        self.keys = KeyCalculator(self.statcache)
        self.outcomes = {name: StepOutcome(name) for name in pipeline.steps}
        self.manifests: dict[str, dict] = {}
        self.parts: dict[str, KeyParts] = {}
        self._backends: dict[str, Backend] = {}
        self._lock = threading.Lock()
        self._stage_locks: dict[str, threading.Lock] = {}
        self.cancel = threading.Event()
        self.notes: list[str] = []
        self.run_id = ""
        self._db = None
        self._last: dict[str, dict] | None = None
        #: snapshot tree hash -> {relpath: file hash}, recorded so status can name changed files
        self._snapshot_files: dict[str, dict[str, str]] = {}
        self._engine_error = ""  # why doit stopped, when it failed on its own

    # ---------------------------------------------------------------- backends
    def backend_for(self, step: Step) -> Backend:
        from amlrun.backends.registry import compute_map, make_backend

        name = self.backend_override
        if name is None:
            mapping = compute_map(self.ws.config)
            compute = (step.compute or "").removeprefix("azureml:") or None
            default = str(self.ws.config.get("default_backend", "local"))
            if compute is None:
                name = default
            elif not mapping:
                name = default
                note = (
                    f"compute '{compute}' runs on the {default} backend "
                    "(map compute names in [tool.amlrun.compute])"
                )
                if note not in self.notes:
                    self.notes.append(note)
            elif compute in mapping:
                name = mapping[compute]
            else:
                raise SpecError(
                    f"compute '{compute}' of step '{step.name}' is not configured",
                    file=step.source,
                    line=step.line,
                    field="compute",
                    fix="map it in [tool.amlrun.compute]; configured: "
                    + ", ".join(sorted(mapping)),
                )
        with self._lock:
            if name not in self._backends:
                options = dict((self.ws.config.get("backends") or {}).get(name) or {})
                options.update(self.backend_options.get(name, {}))
                options.setdefault("workspace", str(self.ws.root))
                self._backends[name] = make_backend(name, options)
            return self._backends[name]

    # ---------------------------------------------------------------- keys and reuse
    def _forced(self, step: Step) -> str | None:
        if step.name in self.force:
            return "forced with --force"
        if self.pipeline.force_rerun:
            return "settings.force_rerun is true"
        if step.force_rerun:
            return "allow_reuse is false"
        if step.module is not None and not step.module.is_deterministic:
            return "module is not deterministic (is_deterministic: false)"
        return None

    def _compute_key(self, step: Step) -> KeyParts:
        backend = self.backend_for(step)
        env = step.module.environment
        if backend.name == "local" and env.kind in ("reference", "image", "build"):
            note = f"environment {env.describe().split(' (')[0]} runs on the current interpreter"
            with self._lock:
                if note not in self.notes:
                    self.notes.append(note)
        parts = self.keys.parts(step, backend, self.manifests)
        out = self.outcomes[step.name]
        out.key = parts.key
        snap = self.keys.snapshot(step.module.code)
        out.components = parts.as_dict()
        self.parts[step.name] = parts
        if snap.tree_hash not in self._snapshot_files:  # once per tree, not once per step
            self._snapshot_files[snap.tree_hash] = {f.relpath: f.hash for f in snap.files}
        return parts

    def _why(self, step: Step, parts: KeyParts) -> str:
        if self._last is None:  # read only when some step must run: null runs never pay
            self._last = self._db.last_components(str(self.pipeline.source))
        old = self._last.get(step.name)
        before = self._db.tree_files(old["snapshot"]) if old and self._db else {}
        after = self._snapshot_files.get(parts.snapshot, {})
        failed = self._db.last_failure(str(self.pipeline.source), step.name, parts.key)
        if failed is not None:  # the same key failed last time: say where and why
            return f"failed in run {failed[0]}: {failed[1]}"
        return explain_change(old, parts, (before, after))

    def uptodate(self, name: str) -> bool:
        """doit's question: is this step's key in the store? (computed when it is ready)"""
        step = self.pipeline.steps[name]
        out = self.outcomes[name]
        if out.status == "reused":  # decided by the null-run pass
            return True
        if out.status == "failed":  # so was this (its key could not be computed)
            return False
        if self.cancel.is_set():
            out.status, out.reason = "cancelled", "run interrupted"
            return False
        try:
            parts = self._compute_key(step)
            forced = self._forced(step)
            if forced is None:
                manifest = self.store.find(parts.key, [o.name for o in step.module.outputs])
                if manifest is not None:
                    self.manifests[name] = manifest
                    out.status, out.reason = "reused", "key found in store"
                    out.duration_s = 0.0
                    self._report(out)
                    return True
            out.reason = forced or self._why(step, parts)
        except Exception as exc:  # e.g. an unreachable remote input: this step fails, visibly
            self._fail(out, exc, "cannot compute the key: ")
        return False

    # ---------------------------------------------------------------- execution
    def execute_once(self, name: str) -> bool:
        """Execute a step, unless a concurrent run on this store is executing its key: then
        wait for that run and reuse what it stored (see :mod:`amlrun.engine.locks`)."""
        out = self.outcomes[name]
        if out.status in ("failed", "cancelled") or not out.key:
            return self.execute(name)
        try:
            with key_lock(self.store, out.key, self.cancel) as locked:
                manifest = None
                step = self.pipeline.steps[name]
                if locked and self._forced(step) is None:  # asked as uptodate asks it
                    manifest = self.store.find(out.key, [o.name for o in step.module.outputs])
                if manifest is None:
                    return self.execute(name)
        except LockCancelled:
            out.status, out.reason = "cancelled", "run interrupted"
            self._report(out)
            return False
        except Exception as exc:  # the lock itself failed: this step fails, visibly
            self._fail(out, exc, "cannot take the step's key lock: ")
            self._report(out)
            return False
        self.manifests[name] = manifest
        out.status, out.reason = "reused", "key stored meanwhile by a concurrent run"
        out.duration_s = 0.0
        self._report(out)
        return True

    def execute(self, name: str) -> bool:
        out = self.outcomes[name]
        if out.status in ("failed", "cancelled"):
            self._report(out)
            return False
        step = self.pipeline.steps[name]
        out.status = "running"
        started = time.perf_counter()
        try:
            job = self._job(step)
            backend = self.backend_for(step)
            out.backend = backend.name
            if self.reporter is not None:
                self.reporter.step_started(out)
            result = backend.execute(job, self.cancel)
            log_dir = self.ws.dir / "logs" / self.run_id
            log_dir.mkdir(parents=True, exist_ok=True)
            log_path = log_dir / f"{folder_name(name.replace('/', '__'))}.log"
            log_path.write_bytes(result.log)
            out.log = str(log_path)
            out.duration_s = time.perf_counter() - started
            if self.cancel.is_set():
                out.status, out.reason = "cancelled", "run interrupted"
            elif result.exit_code != 0:
                out.status = "failed"
                out.reason = f"exit code {result.exit_code}; log: {log_path}"
            else:
                missing = [o for o in job.outputs if o not in result.outputs]
                if missing:
                    raise AmlrunError(f"backend returned no output '{missing[0]}'")
                manifest = {
                    "v": 1,
                    "key": job.key,
                    "step": name,
                    "module": step.module.name,
                    "outputs": {
                        o: {"is_file": _entries_is_file(e), "entries": e}
                        for o, e in result.outputs.items()
                    },
                    "duration_s": round(result.duration_s, 4),
                    "backend": backend.name,
                    "exit_code": 0,
                    "log": self.store.put_bytes(result.log),
                    "created": time.time(),
                }
                self.store.put_manifest(job.key, manifest)
                self.manifests[name] = manifest
                out.status = "ran"
        except Exception as exc:  # a backend bug must fail the step visibly, not vanish
            self._fail(out, exc, "backend error: ")
            out.duration_s = time.perf_counter() - started
        self._report(out)
        return out.status == "ran"

    def _fail(self, out: StepOutcome, exc: Exception, prefix: str) -> None:
        """``out`` failed because of ``exc``; a bug's traceback goes to the step log."""
        out.status, out.reason = "failed", describe(exc)
        if not isinstance(exc, AmlrunError):
            log_path = self.ws.dir / "logs" / self.run_id / f"{out.name.replace('/', '__')}.log"
            keep_traceback(log_path, exc)
            out.log = str(log_path)
            out.reason = f"{prefix}{out.reason}; traceback in {log_path}"

    def _job(self, step: Step) -> Job:
        from amlrun.spec.params import resolve_params

        module = step.module
        assert module is not None
        parts = self.parts[step.name]
        snapshot = self.keys.snapshot(module.code)
        snapshot_dir = self._staged(snapshot)
        backend = self.backend_for(step)
        remote = backend.name != "local"
        if remote:
            for f in snapshot.files:
                self.store.put_file(snapshot_dir / f.relpath, f.hash)
        inputs: dict[str, JobInput] = {}
        params = resolve_params(
            module,
            {
                k: b.value
                for k, b in step.bindings.items()
                if b.kind == "literal" and module.parameter(k)
            },
        )
        for port in module.inputs:
            b = step.bindings.get(port.name)
            if b is None or b.kind == "none":
                params[port.name] = None
                continue
            if b.kind == "step":
                spec = self.manifests[b.step]["outputs"][b.output]
                up_key = self.outcomes[b.step].key
                path = self._materialized(up_key, b.output, spec)
                inputs[port.name] = JobInput(
                    port.name, path, spec["entries"], spec["is_file"], path.name
                )
            else:
                local = str(b.value) if b.kind == "path" else str(Path(str(b.value)).resolve())
                if "://" in local:
                    raise SpecError(
                        f"input '{port.name}' of step '{step.name}' is remote ({local})",
                        fix="download it first; remote inputs are hashed by "
                        "fingerprint but not fetched yet",
                    )
                entries, _, is_file = self.keys.data(local)
                if remote:
                    entries, is_file = self.store.put_tree(Path(local), self.statcache)
                inputs[port.name] = JobInput(
                    port.name, Path(local), entries, is_file, parts.file_names.get(port.name, "")
                )
        return Job(
            step=step.name,
            key=parts.key,
            module=module,
            params=params,
            snapshot_dir=snapshot_dir,
            snapshot_entries=snapshot.entries(),
            inputs=inputs,
            outputs=tuple(o.name for o in module.outputs),
            environment=module.environment,
            store_url=self.store.url,
            env_vars=effective_env_vars(step),
            timeout_s=step.timeout_s,
            stream_logs=self.stream_logs,
            on_output=getattr(self.reporter, "output_sink", lambda _step: None)(step.name),
        )

    def _staged(self, snapshot) -> Path:
        """The snapshot copied once per tree hash under .amlrun/snapshots (read-only use)."""
        dest = self.ws.dir / "snapshots" / snapshot.tree_hash
        with self._lock:
            lock = self._stage_locks.setdefault(snapshot.tree_hash, threading.Lock())
        with lock:
            if not (dest / ".amlrun-complete").exists():
                tmp = dest.with_name(f"{dest.name}.{os.getpid()}.{threading.get_ident()}.tmp")
                shutil.rmtree(tmp, ignore_errors=True)
                snapshot.stage(tmp)
                (tmp / ".amlrun-complete").touch()
                shutil.rmtree(dest, ignore_errors=True)
                os.replace(tmp, dest)
        return dest

    def _materialized(self, key: str, output: str, spec: dict) -> Path:
        """An upstream output on local disk (.amlrun/out/<key>/<output>), restored from the
        store, and again whenever a step has written to it."""
        from amlrun.cache.restored import restore_once

        dest = self.ws.dir / "out" / key / folder_name(output)
        with self._lock:
            restore_once(self.store, spec["entries"], dest, spec["is_file"])
        return dest

    # ---------------------------------------------------------------- whole runs
    def _report(self, out: StepOutcome) -> None:
        if self.reporter is not None:
            self.reporter.step_done(out)

    def _blocked(self) -> list[str]:
        problems = []
        for step in self.pipeline.steps.values():
            if step.blocked:
                problems.append(f"{step.name}: {step.blocked}")
            for k, b in step.bindings.items():
                if b.kind == "cloud":
                    problems.append(f"{step.name}: input {k}: {b.value}")
        return problems

    def run(self) -> RunResult:
        from amlrun.runs.db import RunDB
        from amlrun.runs.module_run import new_run_id

        blocked = self._blocked()
        if blocked:
            raise SpecError(
                "the pipeline cannot run locally:\n  " + "\n  ".join(blocked),
                file=self.pipeline.source,
                fix="map cloud assets to local data ([tool.amlrun.datastores]/"
                "[tool.amlrun.datasets]) or use local component files",
            )
        for step in self.pipeline.steps.values():  # config errors exit 2 before anything runs
            try:
                self.keys.environment(step.module, self.backend_for(step))  # cached for keys
            except AmlrunError:
                raise
            except Exception as exc:  # a backend that cannot even say what it runs
                raise AmlrunError(f"step {step.name}: backend error: {describe(exc)}") from exc
        wanted, destinations = self.check_outputs()  # usage errors exit 2 before any step
        self.run_id = new_run_id()
        self._db = RunDB(self.ws.dir / "runs.sqlite")
        self._last = None
        self._db.start_run(self.run_id, self.pipeline.name, str(self.pipeline.source))
        try:
            result = self._run_started(wanted, destinations)
        except BaseException as exc:  # the record is finished whatever happens
            interrupted = isinstance(exc, KeyboardInterrupt) or self.cancel.is_set()
            with suppress(sqlite3.Error):  # a broken database must not hide the error itself
                self._db.record_steps(self.run_id, [vars(o) for o in self.outcomes.values()])
                self._db.finish_run(self.run_id, "cancelled" if interrupted else "failed")
            raise
        finally:
            self._db.close()
            for backend in self._backends.values():
                backend.close()
        if self.reporter is not None:
            self.reporter.finish(result)
        return result

    def _run_started(
        self, wanted: dict[str, WantedOutput], destinations: Destinations
    ) -> RunResult:
        """The run after its record exists: schedule, settle, materialize, record."""
        if self.reporter is not None:
            self.reporter.start(self)
        previous = _install_sigint(self.cancel)
        try:
            if not self._all_reusable():
                remove_stale(self.ws.dir)  # a killed run's temporary folders
                self._schedule()
        finally:
            signal.signal(signal.SIGINT, previous) if previous is not None else None
            self.statcache.save()
        self._settle()
        outputs = materialize_outputs(wanted, self.manifests, self.store, destinations)
        result = RunResult(self.run_id, self.pipeline, list(self.outcomes.values()), outputs)
        for tree, files in self._snapshot_files.items():
            self._db.record_tree(tree, files)
        self._db.record_steps(self.run_id, [vars(o) for o in result.steps])
        status = "succeeded" if result.ok else "failed"
        self._db.finish_run(self.run_id, "cancelled" if self.cancel.is_set() else status)
        return result

    def check_outputs(self) -> tuple[dict[str, WantedOutput], Destinations]:
        """Where outputs go, refused (exit 2) before any step runs if a user's file is there."""
        wanted = wanted_outputs(self.pipeline, self.output_overrides)
        destinations = destinations_for(self.pipeline, self.ws, self.store, force=self.force_output)
        destinations.check_all(w.dest for w in wanted.values())
        return wanted, destinations

    def _schedule(self) -> None:
        """Run the steps through doit; what doit reports on its own fails the steps it names."""
        from amlrun.engine.doit_tasks import run_tasks

        steps = [(n, sorted(s.upstream())) for n, s in self.pipeline.steps.items()]
        dep_file = self.ws.dir / "doit.sqlite"
        try:
            told = run_tasks(
                steps,
                self.uptodate,
                self.execute_once,
                dep_file=dep_file,
                jobs=self.jobs,
                keep_going=self.pipeline.continue_on_step_failure,
            )
        except Exception as exc:
            self._engine_error = f"the engine (doit) failed: {describe(exc)} (dep file {dep_file})"
            return
        for name, message in told.failures.items():
            out = self.outcomes.get(name)
            if out is not None and out.status not in ("failed", "cancelled"):
                out.status, out.reason = "failed", f"doit: {message}"
                self._report(out)
        if told.errors:
            self._engine_error = "the engine (doit) failed: " + "; ".join(told.errors)

    def _all_reusable(self) -> bool:
        """Answer doit's uptodate question for steps in order until one must run.

        When every key is in the store (a null run) nothing needs scheduling and doit is not
        even imported; otherwise doit runs everything, reusing the answers given here.
        """
        for name in self.pipeline.steps:
            if not self.uptodate(name):
                out = self.outcomes[name]
                if out.status != "failed":
                    out.status, out.reason = "pending", ""
                return False
        return True

    def _settle(self) -> None:
        """Name what never ran: skipped (an upstream did not succeed), else why it stopped."""
        unfinished = [n for n, o in self.outcomes.items() if o.status in ("pending", "running")]
        while unfinished:  # upstream steps first, whatever order the pipeline lists them in
            left = set(unfinished)
            ready = [n for n in unfinished if not set(self.pipeline.steps[n].upstream()) & left]
            for name in ready or unfinished:
                self._settle_one(name)
            unfinished = [n for n in unfinished if n not in (ready or unfinished)]

    def _settle_one(self, name: str) -> None:
        out = self.outcomes[name]
        bad = [
            u
            for u in sorted(self.pipeline.steps[name].upstream())
            if self.outcomes[u].status in ("failed", "skipped", "cancelled")
        ]
        failed = [n for n, o in self.outcomes.items() if o.status == "failed"]
        if bad:
            out.status, out.reason = "skipped", f"upstream {bad[0]} did not succeed"
        elif self.cancel.is_set():
            out.status, out.reason = "cancelled", "run interrupted"
        elif self._engine_error:
            out.status, out.reason = "failed", self._engine_error
            self._report(out)
        elif failed and not self.pipeline.continue_on_step_failure:
            out.status = "cancelled"
            out.reason = (
                f"stopped after step {failed[0]} failed (continue_on_step_failure is false)"
            )
        else:  # nothing explains it: say so rather than guess
            out.status, out.reason = "failed", "the engine stopped before this step started"
            self._report(out)

    # ---------------------------------------------------------------- planning
    def plan(self) -> list[StepOutcome]:
        """What a run would do, without running: reused, would run (and why), or unknown."""
        from amlrun.runs.db import RunDB

        wanted_outputs(self.pipeline, self.output_overrides)  # unknown --output names: exit 2
        self._db = RunDB(self.ws.dir / "runs.sqlite")
        self._last = None
        unknown: set[str] = set()
        for name, step in self.pipeline.steps.items():
            out = self.outcomes[name]
            problem = step.blocked or next(
                (f"input {k}: {b.value}" for k, b in step.bindings.items() if b.kind == "cloud"),
                None,
            )
            if problem:
                out.status, out.reason = "blocked", problem
                unknown.add(name)
                continue
            waiting = [u for u in sorted(step.upstream()) if u in unknown]
            if waiting:
                out.status = "unknown"
                out.reason = f"depends on upstream ({waiting[0]} will run)"
                unknown.add(name)
                continue
            try:
                parts = self._compute_key(step)
            except AmlrunError as exc:
                out.status, out.reason = "blocked", str(exc)
                unknown.add(name)
                continue
            forced = self._forced(step)
            outputs = [o.name for o in step.module.outputs]
            manifest = None if forced else self.store.find(parts.key, outputs)
            if manifest is not None:
                self.manifests[name] = manifest
                out.status, out.reason = "reused", "key found in store"
            else:
                out.status = "would-run"
                out.reason = forced or self._why(step, parts)
                unknown.add(name)
        self.statcache.save()
        self._db.close()
        return list(self.outcomes.values())


def _entries_is_file(entries: dict) -> bool:
    return list(entries) == [""]


def _install_sigint(cancel: threading.Event):
    """Ctrl-C cancels running steps (their process groups are killed) instead of crashing."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    return signal.signal(signal.SIGINT, handler)
