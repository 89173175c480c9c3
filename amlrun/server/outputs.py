"""Downloading a run's output: restored from the store into a temporary folder (so a remote
or lazily fetched store and the blob checks work as for any restore), then sent as the file
itself or, for a folder, as one .tar.gz; the temporary folder goes once it is sent."""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from fastapi import HTTPException
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from amlrun.server import queue


def _locate(row: queue.QueuedRun, name: str, steps: list[dict]) -> tuple[str, str, str]:
    """(step, output, key) of a pipeline output or of ``STEP/OUTPUT``."""
    target = row.outputs.get(name)
    step, output = (target["step"], target["output"]) if target else name.rpartition("/")[::2]
    key = next((s.get("key") for s in steps if s["name"] == step), None)
    if not step or key is None:
        have = ", ".join(sorted(row.outputs)) or "none"
        raise HTTPException(
            404, f"run {row.id} has no output '{name}' (pipeline outputs: {have}; or STEP/OUTPUT)"
        )
    return step, output, key


def download(state: Any, row: queue.QueuedRun, name: str) -> FileResponse:
    from amlrun.cache.store import open_store

    steps = queue.steps_of(state.amlrun_dir, row.id)
    step, output, key = _locate(row, name, steps)
    status = next(s["status"] for s in steps if s["name"] == step)
    if status not in ("ran", "reused"):
        raise HTTPException(409, f"step {step} has no result ({status})")
    store = open_store(state.workspace.config.get("store"), state.root)
    manifest = store.get_manifest(key)
    spec = (manifest or {}).get("outputs", {}).get(output)
    if spec is None:
        raise HTTPException(404, f"the result of step {step} has no output '{output}' in the store")
    tmp = Path(tempfile.mkdtemp(prefix="amlrun-download-"))
    cleanup = BackgroundTask(shutil.rmtree, tmp, ignore_errors=True)
    try:
        restored = tmp / output
        store.materialize(spec["entries"], restored, spec["is_file"])
        if spec["is_file"]:
            return FileResponse(restored, filename=output, background=cleanup)
        archive = tmp / f"{output}.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(restored, arcname=output)
        return FileResponse(
            archive, media_type="application/gzip", filename=archive.name, background=cleanup
        )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
