"""The run settings of a v2 parallel component or node, as written (typed in amlrun.parallel)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from amlrun.spec.model import Parallel


def parallel_settings(doc: dict) -> tuple[tuple[str, str], ...]:
    """error thresholds, retries, timeout, concurrency and output action of a v2 parallel
    component or node, flattened to (name, value) pairs."""
    retry = doc.get("retry_settings") if isinstance(doc.get("retry_settings"), dict) else {}
    resources = doc.get("resources") if isinstance(doc.get("resources"), dict) else {}
    task = doc.get("task") if isinstance(doc.get("task"), dict) else {}
    found: dict[str, Any] = {
        "error_threshold": doc.get("error_threshold"),
        "mini_batch_error_threshold": doc.get("mini_batch_error_threshold"),
        "max_retries": retry.get("max_retries"),
        "timeout": retry.get("timeout"),
        "instance_count": resources.get("instance_count"),
        "max_concurrency_per_instance": doc.get("max_concurrency_per_instance"),
        "output_action": (
            ("append_row" if task.get("append_row_to") else "summary_only") if task else None
        ),
        "append_row_file_name": task.get("append_row_file_name") or doc.get("append_row_file_name"),
        "partition_keys": doc.get("partition_keys"),
    }
    return tuple((k, str(v)) for k, v in found.items() if v is not None)


def parallel_overrides(par: Parallel, node: dict) -> Parallel:
    """A pipeline node's own mini_batch_size, thresholds, retries and concurrency over its
    parallel component's."""
    settings = {**dict(par.settings), **dict(parallel_settings(node))}
    size = node.get("mini_batch_size")
    return replace(
        par,
        mini_batch_size=par.mini_batch_size if size is None else str(size),
        settings=tuple(sorted(settings.items())),
    )
