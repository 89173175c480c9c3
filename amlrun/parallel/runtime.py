"""Running a parallel step: mini-batches with their own keys, workers for the missing ones,
then the gather (rows concatenated in input order) as the step's output.

A batch's key covers everything its ``run()`` call sees: the command and entry script, the
snapshot, the environment, parameters, the other inputs, environment variables, and the
names and contents of the batch's own items. Settings that only decide *whether* a batch
succeeds (retries, timeout, thresholds, worker count) are not in it. A batch is stored as
soon as the worker that ran it ends, so a killed run resumes with those batches reused.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amlrun.backends.job import Job, JobInput, JobResult
from amlrun.hashing import hash_file, hash_json
from amlrun.parallel.batching import Item, batches, parse_size
from amlrun.parallel.config import ParallelConfig, is_tabular, parallel_config
from amlrun.parallel.gather import gather, verdict
from amlrun.parallel.workers import DRIVER, Batch, WorkerOutcome, dead_worker, run_worker

#: what a batch key means; change it when a batch's key starts covering something new or
#: the tabular reader (amlrun.parallel.tabular) reads a table differently
BATCH_KEY_VERSION = 1
#: batches per worker job at most: what a killed worker loses, against process start-ups
MAX_CHUNK = 25


@dataclass(frozen=True)
class Context:
    """What a parallel step needs from the engine besides its job."""

    parts: Any  # the step's KeyParts
    store: Any
    cancel: threading.Event
    tmp_root: Path  # plan folders (removed after each worker)
    logs_dir: Path  # worker-N/progress.txt, worker-N/errors.txt
    reuse: bool  # False when the step is forced: every batch runs


def _base_key(module: Any, cfg: ParallelConfig, parts: Any) -> str:
    port = module.port(cfg.data_input)
    return hash_json(
        {
            "v": BATCH_KEY_VERSION,
            "driver": hash_file(DRIVER),  # it calls run() and writes the rows
            "command": module.command.identity(),
            "entry_script": cfg.entry_script,
            "data_port": port.identity() if port else None,
            "snapshot": parts.snapshot,
            "environment": parts.environment,
            "params": parts.params,
            "inputs": {k: v for k, v in parts.inputs.items() if k != cfg.data_input},
            "file_names": parts.file_names,
            "env_vars": parts.env_vars,
        }
    )


def plan_batches(module: Any, cfg: ParallelConfig, parts: Any, data: JobInput) -> list[Batch]:
    """The step's mini-batches, each with its key (data read only for tabular input)."""
    base = _base_key(module, cfg, parts)
    tabular = is_tabular(module, cfg)
    size = parse_size(cfg.mini_batch_size, tabular=tabular, field="mini_batch_size")
    if tabular:
        from amlrun.parallel.tabular import table_batches

        assert data.path is not None, "tabular input must be on this machine"
        return [
            Batch(i, hash_json([base, digest]), (), len(frame), frame)
            for i, (frame, digest) in enumerate(table_batches(data.path, size))
        ]
    items = [Item(rel, f"{e[0]}:{e[2]}") for rel, e in sorted(data.entries.items())]
    return [
        Batch(i, hash_json([base, [[it.name, it.digest] for it in group]]), names, len(group))
        for i, group in enumerate(batches(items, size))
        for names in [tuple(it.name for it in group)]
    ]


def run_parallel(job: Job, backend: Any, ctx: Context) -> JobResult:
    """Run the step's missing mini-batches on ``backend``, then gather every batch's rows."""
    started = time.perf_counter()
    cfg = parallel_config(job.module)
    planned = plan_batches(job.module, cfg, ctx.parts, job.inputs[cfg.data_input])
    stored = {b.index: ctx.store.find(b.key, ["result"]) if ctx.reuse else None for b in planned}
    done = {i: m for i, m in stored.items() if m is not None}
    pending = [b for b in planned if b.index not in done]
    statuses = _run_pending(job, cfg, pending, backend, ctx, done)
    for i, m in done.items():
        statuses.setdefault(i, {"ok": True, "items": m["items"], "failed": m["failed"]})
    ok, summary = verdict(cfg, planned, statuses, reused=len(planned) - len(pending))
    log = f"{summary}\nworker logs: {ctx.logs_dir}\n".encode()
    # tolerated failures: the step's output is not stored whole, so the next run retries
    # the failed mini-batches (the others are reused one by one)
    partial = any(not s.get("ok") for s in statuses.values())
    detail = {"summary": summary.splitlines()[0], "partial": partial}
    if not ok or ctx.cancel.is_set():
        return JobResult(1, time.perf_counter() - started, {}, log, backend.name, detail)
    outputs = gather(job, cfg, planned, done, ctx.store, ctx.tmp_root)
    return JobResult(0, time.perf_counter() - started, outputs, log, backend.name, detail)


def _run_pending(
    job: Job, cfg: ParallelConfig, pending: list[Batch], backend: Any, ctx: Context, done: dict
) -> dict[int, dict]:
    """Run ``pending`` in chunks on ``cfg.workers`` threads; store each finished batch."""
    if not pending:
        return {}
    size = max(1, min(MAX_CHUNK, math.ceil(len(pending) / (cfg.workers * 4))))
    chunks: queue.Queue = queue.Queue()
    for start in range(0, len(pending), size):
        chunks.put(pending[start : start + size])
    statuses: dict[int, dict] = {}
    lock = threading.Lock()

    def work(n: int) -> None:
        while not ctx.cancel.is_set():
            try:
                chunk = chunks.get_nowait()
            except queue.Empty:
                return
            try:
                got = run_worker(job, cfg, chunk, backend, ctx.store, ctx)
            except Exception as exc:  # e.g. the environment cannot be built: these batches fail
                text = f"{type(exc).__name__}: {exc}"
                got = dead_worker(chunk, f"backend error: {text.splitlines()[0][:300]}", text)
            with lock:
                statuses.update(got.statuses)
                done.update(_store_batches(job, chunk, got, ctx.store))
                _append_logs(ctx.logs_dir / f"worker-{n}", got)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(cfg.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


def _store_batches(job: Job, chunk: list[Batch], got: WorkerOutcome, store: Any) -> dict:
    """One store entry per successful batch: its rows blob and its item counts."""
    stored = {}
    for b in chunk:
        status, rows = got.statuses[b.index], got.results.get(b.index)
        if not status.get("ok") or rows is None:
            continue
        manifest = {
            "step": job.step,
            "mini_batch": b.index,
            "items": status["items"],
            "failed": status["failed"],
            "outputs": {"result": {"is_file": True, "entries": {"": rows}}},
            "created": time.time(),
        }
        store.put_manifest(b.key, manifest)
        stored[b.index] = {"v": 1, "key": b.key, **manifest}
    return stored


def _append_logs(folder: Path, got: WorkerOutcome) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("progress.txt", got.progress), ("errors.txt", got.errors)):
        with open(folder / name, "a", encoding="utf-8") as f:
            f.write(text)
