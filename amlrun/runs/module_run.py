"""Run one module locally (``amlrun module run`` and ``Module.run``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from amlrun.backends.env_notes import local_notes
from amlrun.backends.job import Job, JobInput, output_path
from amlrun.destinations import Destination, Destinations, place
from amlrun.errors import SpecError
from amlrun.runs.db import new_run_id
from amlrun.spec.model import Module
from amlrun.spec.params import resolve_params
from amlrun.workspace import Workspace


@dataclass(frozen=True)
class ModuleResult:
    exit_code: int
    outputs: dict[str, Path]
    log: Path
    run_dir: Path
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


def split_values(module: Module, values: Mapping[str, Any]) -> tuple[dict, dict, dict]:
    """Separate given values into input paths, parameter values and output paths."""
    inputs, params, outputs = {}, {}, {}
    for k, v in values.items():
        if module.port(k) is not None:
            inputs[k] = v
        elif module.output(k) is not None:
            outputs[k] = v
        else:
            params[k] = v
    return inputs, params, outputs


def check_inputs(module: Module, given: Mapping[str, Any]) -> dict[str, Path | None]:
    out: dict[str, Path | None] = {}
    for port in module.inputs:
        raw = given.get(port.name)
        if raw is None:
            if not port.optional:
                raise SpecError(
                    f"required input '{port.name}' ({port.type}) has no value",
                    file=module.source,
                    field=f"inputs.{port.name}",
                    fix=f"pass --input '{port.name}=PATH'",
                )
            out[port.name] = None
            continue
        path = Path(os.fspath(raw)).expanduser().resolve()
        if not path.exists():
            raise SpecError(
                f"input '{port.name}' points at {path}, which does not exist",
                field=f"inputs.{port.name}",
                fix="pass an existing file or folder",
            )
        out[port.name] = path
    return out


def run_module(
    module: Module,
    values: Mapping[str, Any],
    *,
    workspace: Workspace | None = None,
    stream: bool = False,
    warn=None,
    force_output: bool = False,
) -> ModuleResult:
    """Stage the snapshot into a run folder, run the command there, record its log.

    Outputs are written inside the run folder and, if the command succeeds, moved to the
    destinations given (checked before the command starts; see :mod:`amlrun.destinations`).
    """
    from amlrun.backends.local import run_prepared

    if module.kind == "parallel":
        raise SpecError(
            "a parallel module runs only as a pipeline step (its mini-batches are cached)",
            file=module.source,
            field="type",
            fix="run a pipeline with a node 'component: ./this.yml' (see docs/parallel.md)",
        )
    ws = workspace or Workspace.find()
    given_inputs, given_params, given_outputs = split_values(module, values)
    params = resolve_params(module, given_params)
    inputs = check_inputs(module, given_inputs)
    destinations = Destinations(
        ws.dir, force=force_output, protected=_read_paths(module, inputs.values())
    )
    wanted = _destinations(given_outputs, destinations)
    for note in local_notes(module.environment) if warn is not None else ():
        warn(note)
    job, run_dir, outputs = _staged_job(module, ws, params, inputs, stream)
    present = {k: v for k, v in inputs.items() if v is not None}
    # placeholders of optional inputs without a value render as "no value" (group dropped)
    missing = dict.fromkeys((k for k, v in inputs.items() if v is None), None)
    log_path = run_dir / "log.txt"
    with open(log_path, "wb") as log:
        code, _, seconds = run_prepared(
            _with_missing(job, missing), run_dir / "code", present, outputs, None, log_file=log
        )
    if code == 0:
        _deliver(wanted, outputs, destinations)
    return ModuleResult(code, outputs, log_path, run_dir, seconds)


def _staged_job(
    module: Module,
    ws: Workspace,
    params: dict[str, Any],
    inputs: Mapping[str, Path | None],
    stream: bool,
) -> tuple[Job, Path, dict[str, Path]]:
    """The job, in a new run folder whose ``code/`` is a copy of the snapshot: (job, run
    folder, output paths)."""
    from amlrun.hashing import StatCache
    from amlrun.snapshot.tree import take_snapshot

    statcache = StatCache(ws.statcache_path)
    snapshot = take_snapshot(module.code, statcache)
    statcache.save()
    run_dir = ws.dir / "runs" / new_run_id()
    code_dir = run_dir / "code"
    snapshot.stage(code_dir)
    outputs = {o.name: output_path(run_dir, o.name) for o in module.outputs}
    job = Job(
        step=module.name,
        key="",
        module=module,
        params=params,
        snapshot_dir=code_dir,
        snapshot_entries=snapshot.entries(),
        inputs={k: JobInput(k, v, {}, v.is_file()) for k, v in inputs.items() if v is not None},
        outputs=tuple(outputs),
        environment=module.environment,
        store_url="",
        stream_logs=stream,
    )
    return job, run_dir, outputs


def _destinations(given: Mapping[str, Any], destinations: Destinations) -> dict[str, Destination]:
    """Where the caller wants outputs, refused before the command starts if a file is there."""
    wanted = {
        name: Destination.of(f"--output {name}", os.fspath(raw))
        for name, raw in given.items()
        if raw is not None
    }
    destinations.check_all(wanted.values())
    return wanted


def _deliver(
    wanted: dict[str, Destination], outputs: dict[str, Path], destinations: Destinations
) -> None:
    """Move each wanted output of a successful command into place (``outputs`` updated)."""
    from amlrun.snapshot.tree import hash_path

    for name, dest in wanted.items():
        produced = outputs[name]
        if os.path.lexists(produced):  # a file output the command never wrote: none
            hashes = {rel: e[0] for rel, e in hash_path(produced)[0].items()}
            outputs[name] = destinations.write(dest, partial(place, produced), hashes)


def _read_paths(module: Module, inputs: Iterable[Path | None]) -> list[Path]:
    """The spec, its code and includes, and the inputs: no destination may hold them."""
    paths = [p for p in inputs if p is not None]
    if module.source is not None:
        paths.append(Path(module.source))
    if module.code.root is not None:
        paths.append(Path(module.code.root))
    return paths + [Path(src) for src, _ in module.code.includes]


def _with_missing(job: Job, missing: dict[str, None]) -> Job:
    if not missing:
        return job
    from dataclasses import replace

    return replace(job, params={**job.params, **missing})


def print_warning(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
