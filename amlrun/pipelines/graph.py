"""DAG checks shared by every pipeline source: ordering, cycles, dangling wiring, types."""

from __future__ import annotations

from pathlib import Path

from amlrun.errors import SpecError
from amlrun.pipelines.connections import check_link
from amlrun.pipelines.model import Step
from amlrun.spec.datatypes import Catalog

BUILT_IN = Catalog()  # no registry here: a custom type connects until it is resolved


def order_steps(steps: dict[str, Step], source: Path) -> dict[str, Step]:
    """Steps in dependency order; a cycle or an unknown upstream is an error."""
    for step in steps.values():
        for name, b in step.bindings.items():
            if b.kind != "step":
                continue
            up = steps.get(b.step)
            if up is None:
                raise SpecError(
                    f"input '{name}' of step '{step.name}' refers to unknown step '{b.step}'",
                    file=source,
                    line=b.line or step.line,
                    field=f"jobs.{step.name}.inputs.{name}",
                    fix="use one of: " + ", ".join(sorted(steps)),
                )
            if up.module is not None and up.module.output(b.output) is None:
                outs = ", ".join(o.name for o in up.module.outputs) or "none"
                raise SpecError(
                    f"step '{b.step}' has no output '{b.output}'",
                    file=source,
                    line=b.line or step.line,
                    field=f"jobs.{step.name}.inputs.{name}",
                    fix=f"use one of its outputs: {outs}",
                )
            check_link(BUILT_IN, step, name, up, file=source)  # custom types: load.resolved
    return _topological(steps, source)


def _topological(steps: dict[str, Step], source: Path) -> dict[str, Step]:
    """Depth-first, upstream steps first (siblings by name), with an explicit stack so that
    a chain of any length orders without recursion; a step met again on the path is a cycle.
    """
    ordered: dict[str, Step] = {}
    on_path: set[str] = set()
    for start in steps:
        if start in ordered:
            continue
        path = [start]
        pending = [iter(sorted(steps[start].upstream()))]
        on_path.add(start)
        while path:
            up = next(pending[-1], None)
            if up is None:
                done = path.pop()
                pending.pop()
                on_path.discard(done)
                ordered[done] = steps[done]
            elif up in on_path:
                _cycle(steps, [*path[path.index(up) :], up], source)
            elif up not in ordered:
                path.append(up)
                pending.append(iter(sorted(steps[up].upstream())))
                on_path.add(up)
    return ordered


def _cycle(steps: dict[str, Step], cycle: list[str], source: Path) -> None:
    name = cycle[0]
    raise SpecError(
        f"the pipeline has a cycle: {' -> '.join(cycle)}",
        file=source,
        line=steps[name].line,
        field=f"jobs.{name}",
        fix="remove one of the bindings in the cycle",
    )
