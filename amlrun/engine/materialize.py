"""Bytes put on disk for a run: staged snapshots and upstream outputs that steps read, and
pipeline outputs put where the user asked (``--output``, ``path:``), never harming files.

Destinations are checked when the run starts, before any step runs, so a refusal costs
nothing and changes nothing; each is checked again just before it is written (see
:mod:`amlrun.destinations` for the rules).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amlrun.cache.files import tmp_suffix
from amlrun.cache.manifest import restore_mode
from amlrun.destinations import Destination, Destinations
from amlrun.engine.stale import fetching
from amlrun.errors import AmlrunError, SpecError
from amlrun.pipelines.model import Pipeline
from amlrun.spec.names import folder_name
from amlrun.workspace import Workspace

#: in a staged snapshot folder: it is complete (folders without it are never used)
COMPLETE = ".amlrun-complete"


class Staging:
    """What steps read, on local disk under ``.amlrun/``: snapshots and upstream outputs.

    Concurrent runs of one workspace share both, so a copy another run may be reading is
    never replaced while it is good: a snapshot folder appears complete in one rename, and
    an upstream output is restored under a lock between processes.
    """

    def __init__(self, amlrun_dir: Path, store: Any) -> None:
        self.dir = amlrun_dir
        self.store = store
        self._lock = threading.Lock()
        self._snapshot_locks: dict[str, threading.Lock] = {}

    def snapshot(self, snapshot: Any) -> Path:
        """The snapshot copied once per tree hash under .amlrun/snapshots (read-only use)."""
        dest = self.dir / "snapshots" / snapshot.tree_hash
        with self._lock:
            lock = self._snapshot_locks.setdefault(snapshot.tree_hash, threading.Lock())
        with lock:
            if not (dest / COMPLETE).exists():
                tmp = dest.with_name(f"{dest.name}.{tmp_suffix()}")
                shutil.rmtree(tmp, ignore_errors=True)
                try:
                    snapshot.stage(tmp)
                except BaseException:  # e.g. a file edited since it was hashed
                    shutil.rmtree(tmp, ignore_errors=True)
                    raise
                (tmp / COMPLETE).touch()
                _publish(tmp, dest)
        return dest

    def upstream(self, key: str, output: str, spec: dict) -> Path:
        """An upstream output on local disk (.amlrun/out/<key>/<output>), restored from the
        store, and again whenever a step has written to it."""
        from amlrun.cache.restored import is_restored, restore_once
        from amlrun.locks import file_lock

        dest = self.dir / "out" / key / folder_name(output)
        with self._lock:
            if is_restored(spec["entries"], dest):  # good as it is: nobody replaces it
                return dest
            with file_lock(dest.with_name(f".{dest.name}.lock"), remove=True):
                restore_once(self.store, spec["entries"], dest, spec["is_file"])
        return dest


def _publish(tmp: Path, dest: Path) -> None:
    """Rename the complete folder ``tmp`` to ``dest``, unless another run's complete copy
    is there already (then that one stays: a step may be reading it)."""
    while True:
        try:
            os.rename(tmp, dest)  # refused when dest is a folder with anything in it
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
        if (dest / COMPLETE).exists():
            shutil.rmtree(tmp, ignore_errors=True)
            return
        # an incomplete folder (a run killed while an older amlrun removed it): never used
        aside = dest.with_name(f"{dest.name}.old.{tmp_suffix()}")
        with contextlib.suppress(FileNotFoundError):
            os.rename(dest, aside)
        shutil.rmtree(aside, ignore_errors=True)


@dataclass(frozen=True)
class WantedOutput:
    """One step output the user wants outside the store, and where."""

    step: str
    output: str
    dest: Destination


def wanted_outputs(pipeline: Pipeline, overrides: dict[str, str]) -> dict[str, WantedOutput]:
    """Pipeline outputs (``--output`` wins over ``path:``), step outputs named
    ``STEP.outputs.NAME`` in ``--output``, then node outputs with a ``path:``."""
    wanted = {n: _step_output(pipeline, n, p) for n, p in overrides.items() if ".outputs." in n}
    unknown = set(overrides) - set(pipeline.outputs) - set(wanted)
    if unknown:
        raise SpecError(
            f"the pipeline has no output '{sorted(unknown)[0]}'",
            field="--output",
            fix="use one of: "
            + (", ".join(pipeline.outputs) or "none")
            + ", or STEP.outputs.NAME for any step output",
        )
    for name, po in pipeline.outputs.items():
        if name in overrides:
            dest = Destination.of(f"--output {name}", overrides[name])
        elif po.path:
            dest = Destination.of(f"outputs.{name}.path", po.path)
        else:
            continue
        wanted[name] = WantedOutput(po.step, po.output, dest)
    taken = {(w.step, w.output, w.dest.path) for w in wanted.values()}
    for step in pipeline.steps.values():
        for o, path in step.output_paths.items():
            dest = Destination.of(f"jobs.{step.name}.outputs.{o}.path", path)
            if (step.name, o, dest.path) not in taken:  # the same output bound twice is one
                wanted.setdefault(f"{step.name}.{o}", WantedOutput(step.name, o, dest))
    return wanted


def _step_output(pipeline: Pipeline, name: str, path: str) -> WantedOutput:
    """``--output prep_job.outputs.x=DIR``: any output of any step, promoted or not."""
    step_name, _, output = name.rpartition(".outputs.")
    step = pipeline.steps.get(step_name)
    if step is None:
        raise SpecError(
            f"the pipeline has no step '{step_name}'",
            field=f"--output {name}",
            fix="use one of: " + ", ".join(pipeline.steps),
        )
    names = [o.name for o in step.module.outputs] if step.module is not None else []
    if output not in names:
        raise SpecError(
            f"step '{step_name}' has no output '{output}'",
            field=f"--output {name}",
            fix="use one of: " + (", ".join(names) or "none"),
        )
    return WantedOutput(step_name, output, Destination.of(f"--output {name}", path))


def destinations_for(
    pipeline: Pipeline, workspace: Workspace, store: Any, *, force: bool
) -> Destinations:
    """The rules for this run: what the pipeline reads is protected, amlrun's folders internal."""
    return Destinations(
        workspace.dir,
        force=force,
        protected=list(_read_paths(pipeline)),
        internal=list(local_store_roots(store)),
    )


def materialize_outputs(
    wanted: dict[str, WantedOutput],
    manifests: dict[str, dict],
    store: Any,
    destinations: Destinations,
) -> dict[str, Path]:
    """Each wanted output of a step that succeeded (or was reused), restored from the store."""
    done: dict[str, Path] = {}
    for name, w in wanted.items():
        manifest = manifests.get(w.step)
        if manifest is None:
            continue
        spec = manifest["outputs"][w.output]

        def build(path: Path, spec: dict = spec) -> None:
            store.materialize(spec["entries"], path, spec["is_file"])

        hashes = {rel: h for rel, (h, _size, _mode) in spec["entries"].items()}
        modes = {rel: restore_mode(mode) for rel, (_h, _size, mode) in spec["entries"].items()}
        try:
            with fetching(w.step):
                done[name] = destinations.write(w.dest, build, hashes, modes)
        except OSError as exc:  # a full or read-only disk: one line naming the path
            raise AmlrunError(
                f"output '{name}' could not be written to {w.dest.path}: "
                + (f"{exc.strerror}: {exc.filename}" if exc.filename else str(exc))
            ) from exc
    return done


def _read_paths(pipeline: Pipeline) -> Iterator[str | os.PathLike]:
    """Files and folders the run reads: no destination may be or contain one of them
    (as they are: 10,000 steps' Path objects cost a null run 0.6 s)."""
    yield pipeline.source
    for step in pipeline.steps.values():
        yield step.source
        for b in step.bindings.values():
            if b.kind == "path" and "://" not in str(b.value):
                yield str(b.value)
        module = step.module
        if module is None:
            continue
        if module.source is not None:
            yield module.source
        if module.code.root is not None:
            yield module.code.root
        yield from (src for src, _ in module.code.includes)


def local_store_roots(store: Any) -> Iterator[Path]:
    """The folders of a store's local layers, which outputs must never replace."""
    from amlrun.cache.store import LayeredStore, LocalStore

    if isinstance(store, LayeredStore):
        for layer in store.layers:
            yield from local_store_roots(layer)
    elif isinstance(store, LocalStore):
        yield store.root
