"""Parallel steps on the dask backend: each worker chunk is one dask task, run through the
public backend API; mini-batches stored by dask are reused by a local run and back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_json, statuses
from tests.test_dask_backend import _with_plugin_installed
from tests.test_parallel import _ran, _workspace, _write

pytestmark = pytest.mark.slow


def test_a_parallel_step_runs_on_dask_and_its_batches_are_reused_locally(
    dask_scheduler: str, tmp_path: Path
) -> None:
    ws = _workspace(tmp_path / "ws", 60)
    env = _with_plugin_installed(tmp_path / "site")
    dask = ["--backend", "dask", "--scheduler", dask_scheduler]
    out = ["-o", "score.outputs.out=result.txt"]
    first = run_json("pipeline.yml", *dask, *out, cwd=ws, env=env)
    first["_root"] = str(ws)
    assert statuses(first) == {"score": "ran"}, first
    batches = _ran(first)  # the workers run on this machine: they write the calls log too
    assert batches >= 3 and f"{batches} ran)" in first["steps"][0]["reason"]
    rows = (ws / "result.txt").read_text().splitlines()
    assert rows == [f"f{i:04d}.txt {i}!" for i in range(60)]
    _write(ws, "data/f0030a.txt", "new\n")
    local = run_json("pipeline.yml", *out, cwd=ws, env=env)
    local["_root"] = str(ws)
    assert _ran(local) == 1  # the dask run's batches are reused by the local backend
    assert (ws / "result.txt").read_text().splitlines()[31] == "f0030a.txt new!"
