"""examples/ci/rehearse.py, the local rehearsal of the CI workflows, does what it shows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_a_pull_request_reruns_only_the_edited_step_and_its_dependant(tmp_path: Path) -> None:
    for module in ("moto.server", "boto3", "sklearn"):
        pytest.importorskip(module, reason=f"{module} is needed for the rehearsal")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples/ci/rehearse.py"), "--work", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip

    assert proc.returncode == 0, proc.stdout + proc.stderr
    jobs = json.loads(proc.stdout.strip().splitlines()[-1])
    assert set(jobs["main"].values()) == {"ran"}
    assert jobs["pr"] == {
        "prepare": "reused",
        "train": "reused",
        "score": "ran",
        "evaluate": "ran",
    }
    assert "| score | ran |" in proc.stdout  # the markdown report a job summary shows
