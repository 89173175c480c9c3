"""Running a pipeline: plan keys, reuse what the store has, run the rest on backends.

The Engine only wires the parts together and orders a run: ``plan`` (keys and the reuse
decision), ``execute`` (doit's task loop), ``jobs`` and ``materialize`` (what steps read and
what the user gets), ``records`` (run rows and logs), ``compute`` (which backend).
"""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amlrun.cache.inuse import store_in_use
from amlrun.cache.uploads import background_uploads
from amlrun.collector import paused
from amlrun.destinations import Destinations
from amlrun.engine.compute import Backends
from amlrun.engine.execute import Executor, install_sigint
from amlrun.engine.failures import describe
from amlrun.engine.keys import KeyCalculator
from amlrun.engine.materialize import (
    Staging,
    WantedOutput,
    destinations_for,
    materialize_outputs,
    wanted_outputs,
)
from amlrun.engine.plan import Plan
from amlrun.engine.records import Records
from amlrun.engine.stale import StaleResult
from amlrun.engine.state import StepOutcome
from amlrun.engine.team import TeamCache, confirm_uploads
from amlrun.errors import AmlrunError, SpecError
from amlrun.hashing import StatCache
from amlrun.pipelines.model import Pipeline
from amlrun.workspace import Workspace


@dataclass
class RunResult:
    run_id: str
    pipeline: Pipeline
    steps: list[StepOutcome]
    outputs: dict[str, Path]

    @property
    def ok(self) -> bool:
        return all(s.status in ("ran", "reused", "stopped") for s in self.steps)

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
        run_id: str | None = None,
        invocation: dict[str, Any] | None = None,
    ) -> None:
        """``invocation``: what the run was given (``--set`` values, folder), recorded."""
        force = set(force)
        unknown = force - set(pipeline.steps)
        if unknown:
            raise SpecError(
                f"--force names unknown step '{sorted(unknown)[0]}'",
                fix="use one of: " + ", ".join(pipeline.steps),
            )
        self.pipeline = pipeline
        self.ws = workspace
        self.store = store
        self.reporter = reporter
        self.output_overrides = output_paths or {}
        self.force_output = force_output
        self.run_id = run_id
        self.statcache = StatCache(workspace.statcache_path)
        self.backends = Backends(
            workspace.config, workspace.root, override=backend, options=backend_options
        )
        self.records = Records(workspace.dir, str(pipeline.source), invocation)
        self.team = TeamCache(store, pipeline.source, workspace.root, pipeline.name)
        self.records.team = self.team
        self._plan = Plan(
            pipeline,
            store=store,
            keys=KeyCalculator(self.statcache),
            backends=self.backends,
            records=self.records,
            force=force,
        )
        self.executor = Executor(
            self._plan,
            Staging(workspace.dir, store),
            reporter=reporter,
            jobs=jobs,
            stream_logs=stream_logs,
        )

    @property
    def notes(self) -> list[str]:
        """What the user should know about where steps run (filled as backends resolve)."""
        return self.backends.notes

    def check_outputs(self) -> tuple[dict[str, WantedOutput], Destinations]:
        """Where outputs go, refused (exit 2) before any step runs if a user's file is there."""
        wanted = wanted_outputs(self.pipeline, self.output_overrides)
        destinations = destinations_for(self.pipeline, self.ws, self.store, force=self.force_output)
        destinations.check_all(w.dest for w in wanted.values())
        return wanted, destinations

    @property
    def manifests(self) -> dict[str, dict]:
        """Step -> its manifest, for every step reused or run so far (outputs on demand)."""
        return self._plan.manifests

    @property
    def planned(self) -> Plan:
        """The plan's state (keys, manifests) after ``plan()``, to assemble one step's job."""
        return self._plan

    def plan(self) -> list[StepOutcome]:
        """What a run would do, without running: reused, would run (and why), or unknown."""
        wanted_outputs(self.pipeline, self.output_overrides)  # unknown --output names: exit 2
        self.records.open()
        try:
            self.team.prefetch(list(self.pipeline.steps), self.records.last_keys)
            with paused():
                return self._plan.dry_run()
        finally:
            self.statcache.save()
            self.records.close()

    def run(self) -> RunResult:
        """The run, with the collector paused but while steps execute (amlrun/collector.py)."""
        with paused():
            return self._run()

    def _run(self) -> RunResult:
        self._check_runnable()
        wanted, destinations = self.check_outputs()  # usage errors exit 2 before any step
        self.records.start(self.pipeline.name, self.run_id)
        try:
            # no gc while this run may restore from it; remote writes go in the background
            with store_in_use(self.store), background_uploads(self.store) as uploads:
                result = self._run_started(wanted, destinations, uploads)
        except BaseException as exc:  # the record is finished whatever happens
            interrupted = isinstance(exc, KeyboardInterrupt) or self.executor.cancel.is_set()
            with suppress(sqlite3.Error):  # a broken database must not hide the error itself
                outcomes = list(self._plan.outcomes.values())
                self.records.abort(outcomes, "cancelled" if interrupted else "failed")
            raise
        finally:
            self.records.close()
            self.backends.close()
        if self.reporter is not None:
            self.reporter.finish(result)
        return result

    def _check_runnable(self) -> None:
        """Cloud-only steps and configuration errors exit 2 before anything runs."""
        blocked = _blocked(self.pipeline)
        if blocked:
            raise SpecError(
                "the pipeline cannot run locally:\n  " + "\n  ".join(blocked),
                file=self.pipeline.source,
                fix="map cloud assets to local data ([tool.amlrun.datastores]/"
                "[tool.amlrun.datasets]) or use local component files",
            )
        for step in self.pipeline.steps.values():
            if step.module is not None and step.module.kind == "parallel":
                from amlrun.parallel.config import check_parallel

                check_parallel(step.module)
            try:  # cached for the keys
                self._plan.keys.environment(step.module, self.backends.for_step(step))
            except AmlrunError:
                raise
            except Exception as exc:  # a backend that cannot even say what it runs
                raise AmlrunError(f"step {step.name}: backend error: {describe(exc)}") from exc

    def _run_started(
        self, wanted: dict[str, WantedOutput], destinations: Destinations, uploads: Any
    ) -> RunResult:
        """The run after its record exists: schedule, settle, materialize, record."""
        executor = self.executor
        if self.reporter is not None:
            self.reporter.start(self)
        previous = install_sigint(executor.cancel)
        try:
            self.team.prefetch(list(self.pipeline.steps), self.records.last_keys)
            if not executor.all_reusable():
                from amlrun.backends.workdirs import remove_stale  # not on a null run

                remove_stale(self.ws.dir)  # a killed run's temporary folders
                executor.schedule()
        finally:
            signal.signal(signal.SIGINT, previous) if previous is not None else None
            self.statcache.save()
        return self._finish(wanted, destinations, uploads)

    def _finish(
        self, wanted: dict[str, WantedOutput], destinations: Destinations, uploads: Any
    ) -> RunResult:
        """Settle what did not run, put the asked outputs in place, record the run."""
        executor, plan = self.executor, self._plan
        executor.settle()
        outputs = self._materialize(wanted, destinations)
        steps = list(plan.outcomes.values())
        confirm_uploads(uploads, steps, self.records.run_id)
        result = RunResult(self.records.run_id, self.pipeline, steps, outputs)
        status = "succeeded" if result.ok else "failed"
        status = "cancelled" if executor.cancel.is_set() else status
        self.records.finish(steps, plan.snapshot_files, status, plan.manifests)
        self.team.record(steps, plan.manifests)
        return result

    def _materialize(
        self, wanted: dict[str, WantedOutput], destinations: Destinations
    ) -> dict[str, Path]:
        """The asked outputs; a reused step whose data cannot be fetched is rerun first."""
        for _ in range(len(wanted)):
            try:
                return materialize_outputs(wanted, self.manifests, self.store, destinations)
            except StaleResult as exc:
                self.executor.rerun_stale(exc)
        return materialize_outputs(wanted, self.manifests, self.store, destinations)


def _blocked(pipeline: Pipeline) -> list[str]:
    """Why steps cannot run here: a cloud-only step, or an input bound to a cloud asset."""
    problems = []
    for step in pipeline.steps.values():
        if step.blocked:
            problems.append(f"{step.name}: {step.blocked}")
        for k, b in step.bindings.items():
            if b.kind == "cloud":
                problems.append(f"{step.name}: input {k}: {b.value}")
    return problems
