"""Pipeline outputs put where the user asked (``--output``, ``path:``), never harming files.

Destinations are checked when the run starts, before any step runs, so a refusal costs
nothing and changes nothing; each is checked again just before it is written (see
:mod:`amlrun.destinations` for the rules).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amlrun.destinations import Destination, Destinations
from amlrun.errors import AmlrunError, SpecError
from amlrun.pipelines.model import Pipeline
from amlrun.workspace import Workspace


@dataclass(frozen=True)
class WantedOutput:
    """One step output the user wants outside the store, and where."""

    step: str
    output: str
    dest: Destination


def wanted_outputs(pipeline: Pipeline, overrides: dict[str, str]) -> dict[str, WantedOutput]:
    """Pipeline outputs (``--output`` wins over ``path:``), then node outputs with a ``path:``."""
    unknown = set(overrides) - set(pipeline.outputs)
    if unknown:
        raise SpecError(
            f"the pipeline has no output '{sorted(unknown)[0]}'",
            field="--output",
            fix="use one of: " + (", ".join(pipeline.outputs) or "none"),
        )
    wanted: dict[str, WantedOutput] = {}
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


def destinations_for(
    pipeline: Pipeline, workspace: Workspace, store: Any, *, force: bool
) -> Destinations:
    """The rules for this run: what the pipeline reads is protected, amlrun's folders internal."""
    return Destinations(
        workspace.dir,
        force=force,
        protected=list(_read_paths(pipeline)),
        internal=list(_local_store_roots(store)),
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
        try:
            done[name] = destinations.write(w.dest, build, hashes)
        except OSError as exc:  # a full or read-only disk: one line naming the path
            raise AmlrunError(
                f"output '{name}' could not be written to {w.dest.path}: "
                + (f"{exc.strerror}: {exc.filename}" if exc.filename else str(exc))
            ) from exc
    return done


def _read_paths(pipeline: Pipeline) -> Iterator[Path]:
    """Files and folders the run reads: no destination may be or contain one of them."""
    yield Path(pipeline.source)
    for step in pipeline.steps.values():
        yield Path(step.source)
        for b in step.bindings.values():
            if b.kind == "path" and "://" not in str(b.value):
                yield Path(str(b.value))
        module = step.module
        if module is None:
            continue
        if module.source is not None:
            yield Path(module.source)
        if module.code.root is not None:
            yield Path(module.code.root)
        yield from (Path(src) for src, _ in module.code.includes)


def _local_store_roots(store: Any) -> Iterator[Path]:
    """The folders of a store's local layers, which outputs must never replace."""
    from amlrun.cache.store import LayeredStore, LocalStore

    if isinstance(store, LayeredStore):
        for layer in store.layers:
            yield from _local_store_roots(layer)
    elif isinstance(store, LocalStore):
        yield store.root
