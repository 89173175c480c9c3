"""examples/ci/rehearse.py, the local rehearsal of the CI workflows, does what it shows."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_a_pull_request_reruns_only_the_edited_step_and_downloads_only_what_it_reads(
    tmp_path: Path,
) -> None:
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
    # counted on the wire: of the reused steps, only what score reads was downloaded
    assert jobs["pr_downloaded"] == ["prepare.test_data", "train.model"]


def _jobs(name: str) -> dict[str, str]:
    """Each job of a CI file as the text of its definition."""
    import yaml

    doc = yaml.safe_load((ROOT / "examples/ci" / name).read_text())
    jobs = doc.get("jobs", doc)
    return {job: json.dumps(body) for job, body in jobs.items() if isinstance(body, dict)}


@pytest.mark.parametrize(
    ("name", "main", "pr"),
    [
        ("github-actions.yml", "main", "pull-request"),
        ("gitlab-ci.yml", "pipeline-main", "pipeline-merge-request"),
    ],
)
def test_ci_examples_write_the_team_cache_from_main_and_only_read_it_from_prs(
    name: str, main: str, pr: str
) -> None:
    jobs = _jobs(name)

    assert "$TEAM_CACHE" in jobs[main] and "$TEAM_CACHE?ro" not in jobs[main]
    assert "WRITER" in jobs[main]
    assert "$TEAM_CACHE?ro" in jobs[pr] and "--expect-run" in jobs[pr]
    assert "WRITER" not in jobs[pr] and "AMLRUN_CACHE_SECRET" not in jobs[pr]
    assert all("--report markdown:" in jobs[j] for j in (main, pr))
