"""One worker: a chunk of mini-batches run as one ordinary backend job.

The worker job is the step's job with its command swapped for the driver
(``python PLAN RESULTS LOGS DATA ENTRY ARGS...``), a plan folder added as an input and two
outputs (results, logs). Any backend runs it through the public API, and what a worker
finished is in the store when its job ends, before the next chunk starts.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from amlrun.backends.job import Job, JobInput
from amlrun.backends.workdirs import new_workdir
from amlrun.cache.manifest import Entries
from amlrun.parallel.config import ParallelConfig
from amlrun.spec.model import Command, Port, Ref, Text

PLAN, RESULTS, LOGS = "amlrun_parallel_plan", "amlrun_parallel_results", "amlrun_parallel_logs"
DRIVER = Path(__file__).with_name("driver.py")


@dataclass(frozen=True)
class Batch:
    index: int  # position in input order
    key: str  # its own step-store key
    items: tuple[str, ...]  # relative paths under the data input ("" for a file input)
    count: int  # files or rows
    frame: Any = field(default=None, compare=False, repr=False)  # tabular: its DataFrame


@dataclass(frozen=True)
class WorkerOutcome:
    statuses: dict[int, dict]  # batch index -> {ok, items, failed, error?}
    results: dict[int, list]  # batch index -> the entry [hash, size, mode] of its rows
    progress: str
    errors: str


def _command(job: Job, cfg: ParallelConfig) -> Command:
    """The step's command with the driver in front of the entry script's arguments."""
    cmd = job.module.command
    head = (Ref("input", PLAN), Ref("output", RESULTS), Ref("output", LOGS))
    head += (Ref("input", cfg.data_input), Text(cfg.entry_script))
    rest = cmd.items[2:] if cmd.style == "argv" else cmd.items[1:]
    if cmd.style == "argv":
        return Command("argv", (Text("python"), *head, *rest))
    spaced: list = [Text("python ")]
    for item in head:
        spaced += [item, Text(" ")]
    return Command("shell", (*spaced, *rest))


def _plan_folder(root: Path, job: Job, cfg: ParallelConfig, chunk: list[Batch]) -> Path:
    folder = new_workdir(root, f"{job.step}-plan")
    shutil.copyfile(DRIVER, folder / "__main__.py")
    batches = []
    for b in chunk:
        entry = {"id": b.key, "index": b.index, "items": list(b.items), "count": b.count}
        if b.frame is not None:
            entry["frame"] = f"{b.key}.pkl"
            b.frame.to_pickle(folder / entry["frame"])
        batches.append(entry)
    plan = {"batches": batches, "max_retries": cfg.max_retries, "timeout": cfg.timeout_s}
    (folder / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    return folder


def worker_job(job: Job, cfg: ParallelConfig, plan: Path, store: Any, remote: bool) -> Job:
    """The backend job running one chunk (a backend elsewhere fetches the plan from the store)."""
    entries: Entries = store.put_tree(plan)[0] if remote else {}
    module = replace(
        job.module,
        command=_command(job, cfg),
        inputs=(*job.module.inputs, Port(PLAN, "uri_folder")),
        outputs=(Port(RESULTS, "uri_folder"), Port(LOGS, "uri_folder")),
        kind="command",
    )
    inputs = {**job.inputs, PLAN: JobInput(PLAN, plan, entries, False)}
    return replace(
        job, module=module, inputs=inputs, outputs=(RESULTS, LOGS), on_output=None, timeout_s=None
    )


def run_worker(
    job: Job, cfg: ParallelConfig, chunk: list[Batch], backend: Any, store: Any, ctx: Any
) -> WorkerOutcome:
    """Run ``chunk`` in one worker process; a dead worker fails every batch it had."""
    plan = _plan_folder(ctx.tmp_root, job, cfg, chunk)
    try:
        result = backend.execute(
            worker_job(job, cfg, plan, store, backend.name != "local"), ctx.cancel
        )
    finally:
        shutil.rmtree(plan, ignore_errors=True)
    logs = result.outputs.get(LOGS) or {}
    progress, errors = (
        store.get_bytes(logs[n][0]).decode(errors="replace") if n in logs else ""
        for n in ("progress.txt", "errors.txt")
    )
    if result.exit_code != 0 or RESULTS not in result.outputs:
        why = f"the worker process exited with code {result.exit_code}"
        tail = result.log.decode(errors="replace")[-3000:]
        return dead_worker(chunk, why, f"{progress}{errors}{tail}")
    out = result.outputs[RESULTS]
    statuses, results = {}, {}
    for b in chunk:
        status = out.get(f"{b.key}.json")
        statuses[b.index] = (
            json.loads(store.get_bytes(status[0])) if status else _failed(b, "no status written")
        )
        if statuses[b.index].get("ok") and f"{b.key}.out" in out:
            results[b.index] = out[f"{b.key}.out"]
    return WorkerOutcome(statuses, results, progress, errors)


def dead_worker(chunk: list[Batch], why: str, log: str) -> WorkerOutcome:
    """Every batch of a worker that died (or never started) failed, for ``why``."""
    return WorkerOutcome({b.index: _failed(b, why) for b in chunk}, {}, "", f"{log}{why}\n")


def _failed(batch: Batch, why: str) -> dict:
    n = batch.count
    return {"ok": False, "items": n, "failed": n, "error": why}
