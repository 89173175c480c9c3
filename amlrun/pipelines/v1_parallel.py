"""v1 ParallelRunStep: its ``parallel_run_config`` (a side file or inline) as a parallel module.

ParallelRunConfig names the fields differently from a v2 parallel node: ``node_count`` x
``process_count_per_node`` workers, ``run_max_try`` attempts (retries + 1),
``run_invocation_timeout`` per mini-batch, ``error_threshold`` over the whole input, and
``environment_dir_path``, a folder holding ``conda_dependencies.yml`` and optionally
``azureml_environment.json`` (image and variables), relative to the config file.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from amlrun.errors import SpecError
from amlrun.spec import yamlio
from amlrun.spec.common import conda_environment, read_conda
from amlrun.spec.model import Command, Environment, Parallel, Text
from amlrun.spec.shape import local_path, mapping

#: parallel_run_config field -> the setting name amlrun.parallel reads
_SETTINGS = {
    "error_threshold": "error_threshold",
    "output_action": "output_action",
    "append_row_file_name": "append_row_file_name",
    "process_count_per_node": "max_concurrency_per_instance",
    "node_count": "instance_count",
    "run_invocation_timeout": "timeout",
    "allowed_failed_percent": "allowed_failed_percent",
}


def _config(step: dict, path: Path, line: int | None, where: str) -> tuple[dict, Path] | None:
    """(the parallel run config, the folder its relative paths start from); None if absent."""
    raw = step.get("parallel_run_config")
    if isinstance(raw, dict):
        return raw, path.parent
    if not raw:
        return None
    prc = local_path(path.parent, raw, file=path, line=line, field=f"{where}.parallel_run_config")
    if not prc.is_file():
        return None
    doc = yamlio.load(prc)
    doc = doc if isinstance(doc, dict) else {}
    return mapping(doc, "parallel_run_config", file=prc), prc.parent


def _environment(cfg: dict, base: Path, file: Path) -> Environment:
    raw = cfg.get("environment_dir_path")
    if not raw:
        return Environment()
    folder = local_path(base, raw, file=file, line=None, field="environment_dir_path")
    meta: dict[str, Any] = {}
    meta_file = folder / "azureml_environment.json"
    if meta_file.is_file():
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise SpecError(
                f"azureml_environment.json is not JSON: {exc}",
                file=meta_file,
                fix="fix the file, or remove it to use conda_dependencies.yml alone",
            ) from None
        meta = meta if isinstance(meta, dict) else {}
    python, docker, variables = (
        meta.get(k) if isinstance(meta.get(k), dict) else {}
        for k in ("python", "docker", "environmentVariables")
    )
    conda_name = str(python.get("condaDependenciesFile") or "conda_dependencies.yml")
    cpath = folder / conda_name
    conda = read_conda(cpath, file=file, line=None, field="environment_dir_path")
    image = docker.get("baseImage") if docker.get("enabled") else None
    env = conda_environment(conda, os.path.relpath(cpath, base), image, None if conda else cpath)
    return replace(env, variables=tuple((str(k), str(v)) for k, v in variables.items()))


def parallel_run_step(
    step: dict, path: Path, where: str, line: int | None, items: list, ports: list, outputs: list
) -> tuple[Command, Environment, str | None, Parallel | None, str | None]:
    """(command, environment, source folder, parallel settings, why it cannot run) of a
    ParallelRunStep; a missing config file still loads and plans (the corpus has such files)."""
    found = _config(step, path, line, where)
    cfg, base = found or ({}, path.parent)
    script = cfg.get("entry_script")
    command = Command("argv", (Text("python"), Text(str(script or "entry.py")), *items))
    src = step.get("source_directory") or cfg.get("source_directory")
    if found is None or not script or not ports:
        why = (
            f"parallel_run_config {step.get('parallel_run_config')!r} is not a file"
            if found is None
            else "the ParallelRunStep needs parallel_run_config.entry_script and an input"
        )
        return command, Environment(), src, None, why
    settings = {_SETTINGS[k]: str(v) for k, v in cfg.items() if k in _SETTINGS and v is not None}
    tries = cfg.get("run_max_try")
    if tries is not None:  # attempts; the runtime counts retries (a non-number: refused there)
        settings["max_retries"] = str(int(tries) - 1) if str(tries).isdigit() else str(tries)
    if src and not step.get("source_directory"):  # relative to the config file
        src = str(local_path(base, src, file=path, line=line, field="source_directory"))
    parallel = Parallel(
        input_data=(ports[0].name,),
        output_data=outputs[0].name if outputs else None,
        entry_script=str(script),
        mini_batch_size=None if cfg.get("mini_batch_size") is None else str(cfg["mini_batch_size"]),
        settings=tuple(sorted(settings.items())),
    )
    return command, _environment(cfg, base, path), src, parallel, None
