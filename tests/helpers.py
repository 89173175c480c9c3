"""Running the real ``amlrun`` CLI in a subprocess, as a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

DATA = Path(__file__).parent / "data"


def amlrun(
    *args: str, cwd: Path, env: dict | None = None, check: bool = False, timeout: float = 300
) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "AMLRUN_WORKSPACE": str(cwd), **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-c", "from amlrun.cli.main import main; main()", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"amlrun {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def run_json(*args: str, cwd: Path, **kw) -> dict:
    proc = amlrun("run", *args, "--json", cwd=cwd, **kw)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no JSON printed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return json.loads(lines[-1])


def statuses(result: dict) -> dict[str, str]:
    return {s["name"]: s["status"] for s in result["steps"]}


def write_workspace(root: Path, files: dict[str, str]) -> None:
    """``files`` (relative path -> dedented text) under ``root``, marked as a workspace by a
    ``.git`` folder, as in a real repository."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    (root / ".git").mkdir(exist_ok=True)
