"""Assembling the Job a backend receives: staged snapshot, inputs on disk, resolved values.

Parameters come from the step's key parts (resolved once, when the key was computed), so a
job always runs with exactly the values its key names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from amlrun.backends.base import Backend
from amlrun.backends.job import Job, JobInput
from amlrun.engine.keys import effective_env_vars, local_data_path
from amlrun.engine.materialize import Staging
from amlrun.engine.plan import Plan
from amlrun.engine.stale import fetching
from amlrun.engine.tracking import tracking_dir
from amlrun.errors import SpecError
from amlrun.pipelines.model import Step


def assemble_job(
    step: Step,
    plan: Plan,
    staging: Staging,
    backend: Backend,
    *,
    stream_logs: bool,
    on_output: Callable[[bytes], None] | None = None,
) -> Job:
    module = step.module
    assert module is not None
    parts = plan.parts[step.name]
    snapshot = plan.keys.snapshot(module.code)
    snapshot_dir = staging.snapshot(snapshot)
    remote = backend.name != "local"
    if remote:  # a backend elsewhere fetches the snapshot from the store
        for f in snapshot.files:
            plan.store.put_file(snapshot_dir / f.relpath, f.hash)
        if getattr(plan.store, "uploads", None) is not None:  # its worker reads the remote
            plan.store.uploads.wait()
    params = dict(parts.params)
    inputs: dict[str, JobInput] = {}
    for port in module.inputs:
        b = step.bindings.get(port.name)
        if b is None or b.kind == "none":
            params[port.name] = None
        else:
            inputs[port.name] = _job_input(step, port.name, plan, staging, remote=remote)
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
        store_url=plan.store.url,
        env_vars=effective_env_vars(step),
        timeout_s=step.timeout_s,
        stream_logs=stream_logs,
        on_output=on_output,
        tracking_dir=tracking_dir(plan.records, step),
    )


def _job_input(step: Step, name: str, plan: Plan, staging: Staging, *, remote: bool) -> JobInput:
    """What input ``name`` is bound to, on local disk (and in the store for remote backends)."""
    b = step.bindings[name]
    if b.kind == "step":
        spec = plan.manifests[b.step]["outputs"][b.output]
        with fetching(b.step):
            path = staging.upstream(plan.outcomes[b.step].key, b.output, spec)
        return JobInput(name, path, spec["entries"], spec["is_file"], path.name)
    local = local_data_path(b)
    if "://" in local:
        raise SpecError(
            f"input '{name}' of step '{step.name}' is remote ({local})",
            fix="download it first; remote inputs are hashed by fingerprint but not fetched yet",
        )
    entries, _, is_file = plan.keys.data(local)
    if remote:
        entries, is_file = plan.store.put_tree(Path(local), plan.keys.statcache)
    file_name = plan.parts[step.name].file_names.get(name, "")
    return JobInput(name, Path(local), entries, is_file, file_name)
