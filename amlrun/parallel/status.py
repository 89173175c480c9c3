"""What ``amlrun status`` says of a parallel step: how many of its mini-batches would run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amlrun.backends.job import JobInput
from amlrun.errors import AmlrunError
from amlrun.parallel.config import is_tabular, parallel_config
from amlrun.parallel.runtime import plan_batches
from amlrun.pipelines.model import Step


def batches_to_run(step: Step, plan: Any) -> str:
    """ "K of N mini-batches would run", from the step's key parts (already computed)."""
    module = step.module
    cfg = parallel_config(module)
    b = step.bindings.get(cfg.data_input)
    if b is None or b.kind not in ("path", "literal", "step"):
        return "mini-batches: known when it runs"
    if b.kind == "step":
        spec = plan.manifests[b.step]["outputs"][b.output]
        data = JobInput(cfg.data_input, None, spec["entries"], spec["is_file"])
    else:
        path = str(b.value) if b.kind == "path" else str(Path(str(b.value)).resolve())
        entries, _, is_file = plan.keys.data(path)
        data = JobInput(cfg.data_input, Path(path), entries, is_file)
    if is_tabular(module, cfg) and data.path is None:
        return "mini-batches: known when it runs"
    try:
        planned = plan_batches(module, cfg, plan.parts[step.name], data)
    except AmlrunError as exc:
        return f"mini-batches: {exc}"
    reuse = plan.forced(step) is None
    run = sum(1 for x in planned if not (reuse and plan.store.has_manifest(x.key)))
    return f"{run} of {len(planned)} mini-batches would run"
