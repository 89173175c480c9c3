"""An example third-party amlrun backend: runs each step as a local subprocess, and records it.

Registered through the ``amlrun`` entry-point group (see ``pyproject.toml`` next to this
package), so ``amlrun backends`` lists it and ``amlrun run --backend echo`` uses it.
Its one option, ``record`` (``backends: {echo: {record: PATH}}`` in ``.amlrun/config.yaml``
or ``[tool.amlrun.backends.echo]``), names a file that gets a line ``<step> <key>`` per job.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from amlrun.backends.api import (
    Availability,
    Backend,
    Environment,
    Job,
    JobResult,
    hookimpl,
    local_environment_identity,
    open_store,
    prepare_workdir,
    run_prepared,
    store_outputs,
)


class EchoBackend(Backend):
    """Runs a job with the local backend's helpers in a temporary folder, then notes it."""

    name = "echo"
    description = "example plugin: a local subprocess, recorded in the 'record' file"

    def availability(self) -> Availability:
        return Availability(True, f"records jobs in {self.options.get('record') or 'nothing'}")

    def environment_identity(self, env: Environment) -> str:
        # The same interpreter as the local backend runs the command, so the same identity:
        # results are shared with `local` both ways. A backend running elsewhere (another
        # image, another python) must return something that says so.
        return local_environment_identity(env)

    def execute(self, job: Job, cancel: Any = None) -> JobResult:
        workspace = Path(self.options.get("workspace") or Path.cwd())
        store = open_store(job.store_url, workspace)
        work = prepare_workdir(job, store, Path(tempfile.gettempdir()) / "amlrun-echo")
        try:
            # inputs that exist only in the store were fetched into work/inputs
            inputs = {n: i.path or work / "inputs" / n for n, i in job.inputs.items()}
            outputs = {name: work / "outputs" / name for name in job.outputs}
            code, log, seconds = run_prepared(job, work / "code", inputs, outputs, cancel)
            produced = store_outputs(store, code, outputs)  # blobs only; never the manifest
        finally:
            shutil.rmtree(work, ignore_errors=True)
        record = self.options.get("record")
        if record:
            with open(record, "a", encoding="utf-8") as f:
                f.write(f"{job.step} {job.key}\n")
        return JobResult(code, seconds, produced, log, backend=self.name, detail={"echo": True})


@hookimpl
def amlrun_backends() -> list[type[Backend]]:
    return [EchoBackend]
