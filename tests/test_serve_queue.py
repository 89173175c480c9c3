"""The server's run queue: live step states and logs, cancel, restarts, many clients."""

from __future__ import annotations

import io
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.helpers import amlrun
from tests.serve_ws import Server, make_slow_workspace, token, wait_run, wait_step


@pytest.fixture
def slow(tmp_path: Path):
    root = tmp_path / "ws"
    root.mkdir()
    make_slow_workspace(root)
    amlrun("pipeline", "publish", "slow.yml", "--name", "slow", cwd=root, check=True)
    return root, token(root, "ci", "submit")


def _submit(client: httpx.Client, **parameters) -> str:
    answer = client.post("/api/v1/pipelines/slow/runs", json={"parameters": parameters})
    assert answer.status_code == 202, answer.text
    return answer.json()["run_id"]


def test_a_running_step_shows_live_and_its_log_streams_until_cancelled(slow):
    root, secret = slow
    server = Server(root)
    try:
        client = server.client(secret)
        run_id = _submit(client, seconds=60, word="live")
        run = wait_step(client, run_id, "tick", "running")
        assert run["status"] == "running"
        assert {s["name"]: s["status"] for s in run["steps"]}["after"] == "queued"

        lines = []
        url = f"/api/v1/runs/{run_id}/steps/tick/logs"
        with client.stream("GET", url) as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            for line in events.iter_lines():
                if line.startswith("data: tick"):
                    lines.append(line)
                    if len(lines) == 3:  # it is running and streaming: stop it
                        cancelled = client.post(f"/api/v1/runs/{run_id}/cancel")
                        assert cancelled.status_code == 202
                if line == "event: end":
                    break
        ended = wait_run(client, run_id, timeout=60)
    finally:
        server.stop()

    assert lines[:3] == ["data: tick 0", "data: tick 1", "data: tick 2"]
    assert ended["status"] == "cancelled"
    assert {s["name"]: s["status"] for s in ended["steps"]}["tick"] == "cancelled"


def test_queued_runs_start_after_a_restart_and_an_interrupted_one_can_be_resubmitted(slow):
    root, secret = slow
    server = Server(root, "--max-parallel-runs", "1")
    client = server.client(secret)
    running = _submit(client, seconds=60, word="first")
    wait_step(client, running, "tick", "running")
    waiting = _submit(client, seconds=0, word="second")
    time.sleep(1)
    assert client.get(f"/api/v1/runs/{waiting}").json()["status"] == "queued"

    server.stop(kill=True)  # a crash: no chance to clean up
    server = Server(root, "--max-parallel-runs", "1")
    try:
        client = server.client(secret)
        interrupted = client.get(f"/api/v1/runs/{running}").json()
        finished = wait_run(client, waiting)
        again = client.post(f"/api/v1/runs/{running}/resubmit").json()
        resubmitted = client.get(f"/api/v1/runs/{again['run_id']}").json()
        client.post(f"/api/v1/runs/{again['run_id']}/cancel")
    finally:
        server.stop()

    assert interrupted["status"] == "interrupted" and "resubmit" in interrupted["error"]
    assert finished["status"] == "succeeded"
    assert resubmitted["parameters"] == {"seconds": 60, "word": "first"}
    assert resubmitted["resubmit_of"] == running


def test_200_concurrent_submissions_and_polls_lose_no_run(slow):
    root, secret = slow
    server = Server(root, "--max-parallel-runs", "2")
    try:
        client = server.client(secret)

        def submit(i: int) -> str:
            return _submit(client, seconds=0, word=f"w{i % 4}")

        def poll(_i: int) -> int:
            return client.get("/api/v1/runs", params={"limit": 5}).status_code

        with ThreadPoolExecutor(32) as pool:
            polls = pool.map(poll, range(200))
            ids = list(pool.map(submit, range(200)))
            assert set(polls) == {200}
        runs = {
            r["run_id"]: r["status"] for r in client.get("/api/v1/runs?limit=1000").json()["runs"]
        }
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and list(runs.values()).count("succeeded") < 4:
            time.sleep(0.5)
            listed = client.get("/api/v1/runs?limit=1000").json()["runs"]
            runs = {r["run_id"]: r["status"] for r in listed}
        for run_id in ids:  # the rest would take minutes on a small machine
            client.post(f"/api/v1/runs/{run_id}/cancel")
    finally:
        server.stop()

    assert len(set(ids)) == 200 and set(ids) == set(runs)
    assert set(runs.values()) <= {"queued", "running", "succeeded"}
    assert list(runs.values()).count("succeeded") >= 4
    assert list(runs.values()).count("running") <= 2


def test_a_run_queued_in_process_from_a_pipeline_file_starts_when_the_server_does(slow):
    """What schedules do: queue a pipeline file (no publishing) from inside the server."""
    from amlrun.server.app import ServerState
    from amlrun.server.queue import Submission
    from amlrun.workspace import Workspace

    root, secret = slow
    state = ServerState(Workspace(root), dispatcher=None)
    sub = Submission("nightly", parameters={"word": "filed"}, file="slow.yml")
    run_id = state.submit(sub, by="schedule:nightly")

    server = Server(root)
    try:
        run = wait_run(server.client(secret), run_id)
        result = server.client(secret).get(f"/api/v1/runs/{run_id}/outputs/result")
    finally:
        server.stop()

    assert run["status"] == "succeeded" and run["submitted_by"] == "schedule:nightly"
    assert run["file"] == "slow.yml" and run["parameters"] == {"word": "filed"}
    with tarfile.open(fileobj=io.BytesIO(result.content)) as tar:
        assert tar.extractfile("out/word.txt").read() == b"filed"


def test_stopping_the_server_interrupts_its_running_runs(slow):
    root, secret = slow
    server = Server(root)
    client = server.client(secret)
    run_id = _submit(client, seconds=60, word="stopped")
    wait_step(client, run_id, "tick", "running")

    server.stop()  # Ctrl-C
    server = Server(root)
    try:
        run = server.client(secret).get(f"/api/v1/runs/{run_id}").json()
    finally:
        server.stop()

    assert run["status"] == "interrupted", run
