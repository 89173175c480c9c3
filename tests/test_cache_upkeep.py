"""``amlrun cache du|gc|verify`` as a user runs them: sizes, trimming that never pulls an entry
from under a running run, and sampled verification of a remote store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from amlrun.cache.sample import Sample
from tests.helpers import amlrun, run_json
from tests.pipeline_ws import make_workspace

STEPS = {"prep", "train", "report", "side"}


def _entries(ws: Path) -> int:
    return len(list((ws / ".amlrun/cache/steps").glob("*.json")))


def test_du_reports_size_by_layer_and_by_pipeline_step(tmp_path: Path) -> None:
    pipeline = make_workspace(tmp_path)
    run_json(str(pipeline), cwd=tmp_path)

    report = json.loads(amlrun("cache", "du", "--json", cwd=tmp_path, check=True).stdout)
    text = amlrun("cache", "du", cwd=tmp_path, check=True).stdout

    [layer] = report["layers"]
    assert layer["entries"] == 4 and layer["bytes"] > 0
    assert {e["step"] for e in report["entries"]} == STEPS
    assert {e["pipeline"] for e in report["entries"]} == {"testpipe"}
    assert sum(e["bytes"] for e in report["entries"]) >= layer["bytes"]
    assert "4 entries" in text and "testpipe/train: 1 entries" in text


def test_gc_keeps_the_entries_of_the_last_runs_whatever_their_age(tmp_path: Path) -> None:
    pipeline = make_workspace(tmp_path)
    run_json(str(pipeline), cwd=tmp_path)

    kept = amlrun("cache", "gc", "--keep-days", "0", "--keep-last-runs", "1", cwd=tmp_path)
    assert kept.returncode == 0 and "removed 0 entries" in kept.stdout, kept.stderr
    assert _entries(tmp_path) == 4

    gone = amlrun("cache", "gc", "--older-than-days", "0", cwd=tmp_path)  # the old spelling
    assert gone.returncode == 0 and "removed 4 entries" in gone.stdout, gone.stderr
    assert _entries(tmp_path) == 0


def test_gc_deletes_nothing_while_a_run_uses_the_store(tmp_path: Path) -> None:
    pipeline = make_workspace(tmp_path)
    run_json(str(pipeline), cwd=tmp_path)
    side = tmp_path / "side/src/side.py"
    side.write_text("import time; time.sleep(30)\n" + side.read_text())
    env = {**os.environ, "AMLRUN_WORKSPACE": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from amlrun.cli.main import main; main()", "run", str(pipeline)],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not list((tmp_path / ".amlrun/tmp").glob("side-*")):
            time.sleep(0.05)  # the run is executing side: it holds the store
        busy = amlrun("cache", "gc", "--keep-days", "0", cwd=tmp_path)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    assert busy.returncode == 2 and "a run is using the store" in busy.stderr, busy.stderr
    assert _entries(tmp_path) == 4
    after = amlrun("cache", "gc", "--keep-days", "0", cwd=tmp_path)  # the kernel freed the lock
    assert after.returncode == 0 and "removed 4 entries" in after.stdout, after.stderr


def _flip_every_blob(url: str) -> list[str]:
    import s3fs

    fs = s3fs.S3FileSystem()
    paths = [p for p in fs.find(url.removeprefix("s3://") + "/cas") if not p.endswith(".tmp")]
    for path in paths:
        fs.pipe_file(path, b"flipped " + fs.cat_file(path))
    return [p.rsplit("/", 1)[-1] for p in paths]


def _corrupt_lines(proc: subprocess.CompletedProcess) -> set[str]:
    return {ln.split("/")[2].split(":")[0] for ln in proc.stdout.splitlines() if "corrupt" in ln}


def test_verify_sample_rehashes_a_seeded_fraction_of_a_remote_stores_blobs(
    s3_server, tmp_path: Path
) -> None:
    pipeline = make_workspace(tmp_path)
    url = f"{s3_server.url}/du-{uuid.uuid4().hex[:8]}"
    run_json(str(pipeline), "--store", url, cwd=tmp_path)
    blobs = _flip_every_blob(url)

    full = amlrun("cache", "verify", "--store", url, cwd=tmp_path)
    sampled = [
        amlrun("cache", "verify", "--store", url, "--sample", "0.5", "--seed", "7", cwd=tmp_path)
        for _ in range(2)
    ]

    assert full.returncode == 1 and _corrupt_lines(full) == set(blobs)
    expected = Sample(0.5, 7).pick(blobs)
    assert 0 < len(expected) < len(blobs)
    assert _corrupt_lines(sampled[0]) == _corrupt_lines(sampled[1]) == expected
    repaired = amlrun("cache", "verify", "--store", url, "--repair", cwd=tmp_path)
    assert repaired.returncode == 0 and "entry dropped" in repaired.stdout
    again = run_json(str(pipeline), "--store", url, cwd=tmp_path)
    assert {s["status"] for s in again["steps"]} == {"ran"}


@pytest.mark.parametrize("bad", ["0", "1.5"])
def test_verify_refuses_a_sample_outside_zero_to_one(tmp_path: Path, bad: str) -> None:
    make_workspace(tmp_path)
    proc = amlrun("cache", "verify", "--sample", bad, cwd=tmp_path)
    assert proc.returncode == 2 and "--sample" in proc.stderr


def test_gc_trims_the_kept_copies_of_remote_manifests_unused_for_keep_days(
    s3_server, tmp_path: Path
) -> None:
    main, clone = tmp_path / "main", tmp_path / "clone"
    url = f"{s3_server.url}/kept-{uuid.uuid4().hex[:8]}"
    run_json(str(make_workspace(main)), "--store", f".amlrun/cache,{url}", cwd=main)
    reader = f".amlrun/cache,{url}?ro"
    first = run_json(str(make_workspace(clone)), "--store", reader, cwd=clone)
    assert {s["status"] for s in first["steps"]} == {"reused"}
    kept = list((clone / ".amlrun/cache/remote-manifests").glob("*/*.json"))
    assert len(kept) == 4

    old = time.time() - 10 * 86400
    for path in kept[:3]:
        os.utime(path, (old, old))
    gone = amlrun("cache", "gc", "--store", reader, "--keep-days", "5", cwd=clone)

    assert gone.returncode == 0, gone.stderr
    assert [p.exists() for p in kept] == [False, False, False, True]
    again = run_json(str(clone / "pipeline.yml"), "--store", reader, cwd=clone)
    assert {s["status"] for s in again["steps"]} == {"reused"}  # fetched again: one request
    assert len(list((clone / ".amlrun/cache/remote-manifests").glob("*/*.json"))) == 4
