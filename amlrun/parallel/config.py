"""A parallel step's settings, whatever format wrote them (v2 node, v1 module, v1 ParallelRunStep).

Loaders put the fields as written into ``Parallel.settings``; this turns them into typed
values with Azure ML's defaults, so the runtime reads one shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from amlrun.errors import SpecError
from amlrun.spec.model import Module

#: v2 program arguments Azure ML's driver reads itself (the entry script also sees them)
_DRIVER_ARGS = re.compile(r"--(error_threshold|allowed_failed_percent)\s+(-?[\d.]+)")


@dataclass(frozen=True)
class ParallelConfig:
    data_input: str  # the input port whose items are split into mini-batches
    append_to: str | None  # the output the rows go to (None: summary_only)
    entry_script: str
    mini_batch_size: str | None
    error_threshold: int  # failed items allowed over the whole input (-1: any)
    mini_batch_error_threshold: int  # failed mini-batches allowed (-1: any)
    allowed_failed_percent: float  # failed items allowed, in percent of all items
    max_retries: int  # extra attempts per mini-batch
    timeout_s: float  # per run() call (0: none)
    workers: int  # max_concurrency_per_instance x instance_count
    append_row_file_name: str


def _ref(raw: str | None) -> str | None:
    """``${{inputs.x}}`` / ``${{outputs.x}}`` / a bare port name -> the port name."""
    if not raw:
        return None
    m = re.search(r"\$\{\{\s*(?:inputs|outputs)\.([\w.-]+)\s*\}\}", raw)
    return m.group(1) if m else raw.strip()


def _number(settings: dict[str, str], name: str, default: float, module: Module) -> float:
    raw = settings.get(name)
    if raw is None or raw in ("", "None"):
        return default
    try:
        return float(raw)
    except ValueError:
        raise SpecError(
            f"parallel setting {name} is {raw!r}, not a number",
            file=module.source,
            field=name,
            fix=f"write {name} as a number",
        ) from None


def _check_local(module: Module, settings: dict[str, str]) -> None:
    """What the local runtime cannot do faithfully is refused, not approximated."""
    written = [r.name for r in module.command.refs() if r.kind == "output"]
    if written:
        raise SpecError(
            f"program_arguments pass output '{written[0]}' to the entry script: files run() "
            "writes there cannot be kept per mini-batch",
            file=module.source,
            field="task.program_arguments",
            fix="return rows from run() and use append_row_to",
        )
    if settings.get("partition_keys"):
        raise SpecError(
            "partition_keys (mini-batches by column value) is not supported locally",
            file=module.source,
            field="partition_keys",
            fix="remove partition_keys to split by mini_batch_size",
        )


def parallel_config(module: Module) -> ParallelConfig:
    """The settings of a parallel module; a missing data input or entry script is an error."""
    par = module.parallel
    data = _ref(par.input_data[0]) if par and par.input_data else None
    if data is None and len(module.inputs) == 1:
        data = module.inputs[0].name
    if par is None or data is None or module.port(data) is None or not par.entry_script:
        raise SpecError(
            f"parallel module {module.name} names no input_data port or entry_script",
            file=module.source,
            field="input_data",
            fix="set input_data: ${{inputs.NAME}} and task.entry_script",
        )
    s = dict(par.settings)
    _check_local(module, s)
    text = " ".join(getattr(i, "text", "") for i in module.command.items)
    s.update({k: v for k, v in _DRIVER_ARGS.findall(text) if k not in s})
    append = (
        _ref(par.output_data) if s.get("output_action", "append_row") != "summary_only" else None
    )
    if append is None and s.get("output_action", "append_row") != "summary_only":
        append = module.outputs[0].name if module.outputs else None
    workers = _number(s, "max_concurrency_per_instance", 1, module) * _number(
        s, "instance_count", 1, module
    )
    return ParallelConfig(
        data_input=data,
        append_to=append,
        entry_script=par.entry_script,
        mini_batch_size=par.mini_batch_size,
        error_threshold=int(_number(s, "error_threshold", -1, module)),
        mini_batch_error_threshold=int(_number(s, "mini_batch_error_threshold", -1, module)),
        allowed_failed_percent=_number(s, "allowed_failed_percent", 100, module),
        max_retries=int(_number(s, "max_retries", 3, module)),
        timeout_s=_number(s, "timeout", 60, module),
        workers=max(1, int(workers)),
        append_row_file_name=s.get("append_row_file_name") or "parallel_run_step.txt",
    )


def is_tabular(module: Module, cfg: ParallelConfig) -> bool:
    port = module.port(cfg.data_input)
    return port is not None and port.type.lower() in ("mltable", "tabular", "tabulardataset")


def check_parallel(module: Module) -> None:
    """Refuse (exit 2, before any step runs) a parallel module the runtime cannot run."""
    from amlrun.parallel.batching import parse_size

    cfg = parallel_config(module)
    parse_size(cfg.mini_batch_size, tabular=is_tabular(module, cfg), field="mini_batch_size")
