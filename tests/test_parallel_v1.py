"""v1 ParallelRunStep (examples/v1-parallel-run-step): parallel_run_config's fields drive the
same runtime as v2 parallel nodes, through the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import amlrun, run_json, statuses

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "v1-parallel-run-step"


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "v1-parallel"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".amlrun", "out"))
    return root


def _scores(ws: Path, *args: str) -> tuple[dict, list[str]]:
    result = run_json("pipeline.yml", "-o", "ScoreReviews.outputs.scores=out", *args, cwd=ws)
    rows = (ws / "out" / "scores.txt").read_text().splitlines() if result.get("steps") else []
    return result, rows


def test_the_parallel_run_step_scores_every_review_in_order(ws: Path) -> None:
    result, rows = _scores(ws)
    assert statuses(result) == {"ScoreReviews": "ran"}
    assert [r.split()[0] for r in rows] == [f"review-{i:03d}.txt" for i in range(24)]
    assert all(r.split()[2] in ("positive", "negative") for r in rows)
    assert "0 reused" in result["steps"][0]["reason"]


def test_a_new_review_reruns_one_mini_batch_and_a_parameter_reruns_all(ws: Path) -> None:
    _scores(ws)
    (ws / "data" / "reviews" / "review-010a.txt").write_text("great great clean\n")
    result, rows = _scores(ws)
    assert ", 1 ran)" in result["steps"][0]["reason"], result["steps"][0]["reason"]
    assert "review-010a.txt 3 positive" in rows and len(rows) == 25
    result, rows = _scores(ws, "--set", "threshold=5")  # run() sees it: no batch is reused
    assert "(0 reused" in result["steps"][0]["reason"], result["steps"][0]["reason"]
    assert all(r.endswith("negative") for r in rows)


def test_error_threshold_counts_failed_files_over_the_whole_input(ws: Path) -> None:
    _scores(ws)
    bad = ws / "data" / "reviews" / "review-005x.txt"
    bad.write_bytes(b"\xff\xfe\x00 not text")  # run() raises: its whole mini-batch fails
    proc = amlrun("run", "pipeline.yml", cwd=ws)
    assert proc.returncode == 1
    assert "failed items > error_threshold 2" in proc.stdout + proc.stderr
    assert "UnicodeDecodeError" in proc.stdout + proc.stderr  # the error, not just a count
    bad.unlink()
    result, _ = _scores(ws)
    assert statuses(result) == {"ScoreReviews": "reused"}  # back to the stored inputs
