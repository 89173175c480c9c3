"""The end of a parallel step: did too much fail, and the rows in input order as its output."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from amlrun.backends.job import Job
from amlrun.backends.workdirs import new_workdir
from amlrun.cache.manifest import Entries
from amlrun.parallel.config import ParallelConfig


def verdict(
    cfg: ParallelConfig, planned: list, statuses: dict[int, dict], *, reused: int
) -> tuple[bool, str]:
    """(within the error thresholds, a summary naming what failed and why)."""
    items = sum(s["items"] for s in statuses.values())
    failed_items = sum(s["failed"] for s in statuses.values())
    failed = [b for b in planned if not statuses.get(b.index, {}).get("ok")]
    lines = [
        f"parallel: {len(planned)} mini-batches ({reused} reused, {len(planned) - reused} ran), "
        f"{items} items, {failed_items} failed, {len(failed)} mini-batches failed"
    ]
    for b in failed[:5]:
        error = statuses.get(b.index, {}).get("error") or "not run"
        lines.append(f"mini-batch {b.index} ({b.count} items) failed: {error}")
    too_many = []
    if cfg.error_threshold >= 0 and failed_items > cfg.error_threshold:
        too_many.append(f"{failed_items} failed items > error_threshold {cfg.error_threshold}")
    if cfg.mini_batch_error_threshold >= 0 and len(failed) > cfg.mini_batch_error_threshold:
        too_many.append(
            f"{len(failed)} failed mini-batches > mini_batch_error_threshold "
            f"{cfg.mini_batch_error_threshold}"
        )
    if items and failed_items * 100 / items > cfg.allowed_failed_percent:
        too_many.append(f"{failed_items * 100 / items:.1f}% failed > allowed_failed_percent")
    if planned and len(failed) == len(planned):
        too_many.append("every mini-batch failed")
    if too_many:
        lines.append("the step fails: " + "; ".join(too_many))
    return not too_many, "\n".join(lines)


def gather(
    job: Job, cfg: ParallelConfig, planned: list, done: dict[int, dict], store: Any, tmp: Path
) -> dict[str, Entries]:
    """Every output of the step: the append_row output gets the rows of each successful batch
    in input order (a file for a uri_file output, else ``append_row_file_name`` in a folder);
    summary_only and any other output are empty folders."""
    work = new_workdir(tmp, f"{job.step}-gather")
    try:
        produced: dict[str, Entries] = {}
        for name in job.outputs:
            port = job.module.output(name)
            path = work / name
            if name == cfg.append_to:
                target = (
                    path if port is not None and port.is_file else path / cfg.append_row_file_name
                )
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "wb") as f:
                    for b in planned:
                        if b.index in done:
                            entry = done[b.index]["outputs"]["result"]["entries"][""]
                            f.write(store.get_bytes(entry[0]))
            else:
                path.mkdir(parents=True)
            produced[name] = store.put_tree(path, move=True)[0]
        return produced
    finally:
        shutil.rmtree(work, ignore_errors=True)
