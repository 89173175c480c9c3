"""Schedules of published pipelines: alone (``amlrun scheduler``) and inside ``amlrun serve``,
where a firing is submitted through the server's run queue."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.helpers import amlrun
from tests.pipeline_ws import make_workspace

pytest.importorskip("cronsim", reason="needs amlrun[schedule]")

SCHEDULE = """
name: nightly
trigger:
  type: {trigger}
create_job:
  type: pipeline
  job: azureml:tp
  inputs:
    factor: 3
"""


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    make_workspace(tmp_path)
    amlrun("pipeline", "publish", "pipeline.yml", "--name", "tp", cwd=tmp_path, check=True)
    return tmp_path


def _create(ws: Path, trigger: str) -> None:
    (ws / "nightly.yml").write_text(SCHEDULE.format(trigger=trigger))
    amlrun("schedule", "create", "-f", "nightly.yml", cwd=ws, check=True)


def _firings(ws: Path) -> list[dict]:
    proc = amlrun("schedule", "show", "nightly", "--json", cwd=ws, check=True)
    return json.loads(proc.stdout)["firings"][::-1]


def test_a_scheduled_published_pipeline_runs_as_published_after_its_source_is_edited(ws):
    _create(ws, 'cron\n  expression: "0 * * * *"')
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    amlrun("scheduler", "--once", "--now", (hour + timedelta(hours=1)).isoformat(), cwd=ws)
    (ws / "pipeline.yml").write_text("not: a pipeline any more\n")
    amlrun("scheduler", "--once", "--now", (hour + timedelta(hours=2)).isoformat(), cwd=ws)

    first, second = _firings(ws)
    assert first["outcome"] == "succeeded (4 ran)"
    assert second["outcome"] == "succeeded (4 reused)"


def test_a_schedule_of_an_unpublished_name_is_refused_when_created(tmp_path):
    make_workspace(tmp_path)
    (tmp_path / "s.yml").write_text(
        'name: s\ntrigger: {type: cron, expression: "0 * * * *"}\ncreate_job: azureml:nope\n'
    )
    proc = amlrun("schedule", "create", "-f", "s.yml", cwd=tmp_path)
    assert proc.returncode == 2 and "no published pipeline named 'nope'" in proc.stderr


def test_inside_serve_a_data_change_queues_a_run_of_the_published_pipeline(ws, monkeypatch):
    pytest.importorskip("fastapi", reason="needs amlrun[serve]")
    from fastapi.testclient import TestClient

    from amlrun.server import queue
    from amlrun.server.app import create_app
    from amlrun.server.schedules import SchedulerService
    from amlrun.workspace import Workspace

    (ws / "drop").mkdir()
    _create(ws, "data\n  path: ./drop\n  polling_interval: 1s")
    monkeypatch.setenv("AMLRUN_WORKSPACE", str(ws))
    app = create_app(Workspace(ws), max_parallel_runs=1, services=[SchedulerService(0.2)])
    with TestClient(app):
        (ws / "drop/new.csv").write_text("x,1\n")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            firings = _firings(ws)
            if firings and firings[0]["outcome"].startswith(("succeeded", "failed")):
                break
            time.sleep(0.5)
    (firing,) = firings
    assert firing["outcome"] == "succeeded (4 ran)", firing
    run = queue.get(Workspace(ws).dir, firing["run_id"])
    assert run.submitted_by == "schedule:nightly" and run.request["parameters"] == {"factor": 3}


def test_inside_serve_a_pipeline_file_schedule_is_queued_with_its_settings(tmp_path, monkeypatch):
    pytest.importorskip("fastapi", reason="needs amlrun[serve]")
    from fastapi.testclient import TestClient

    from amlrun.server import queue
    from amlrun.server.app import create_app
    from amlrun.server.schedules import SchedulerService
    from amlrun.workspace import Workspace

    make_workspace(tmp_path)
    (tmp_path / "drop").mkdir()
    (tmp_path / "nightly.yml").write_text(
        "name: nightly\ntrigger: {type: data, path: ./drop, polling_interval: 1s}\n"
        "create_job:\n  job: ./pipeline.yml\n  inputs: {factor: 3}\n"
        "  settings: {force_rerun: true}\n"
    )
    amlrun("schedule", "create", "-f", "nightly.yml", cwd=tmp_path, check=True)
    amlrun("run", "pipeline.yml", "--set", "factor=3", cwd=tmp_path, check=True)
    monkeypatch.setenv("AMLRUN_WORKSPACE", str(tmp_path))
    app = create_app(Workspace(tmp_path), max_parallel_runs=1, services=[SchedulerService(0.2)])
    with TestClient(app):
        (tmp_path / "drop/new.csv").write_text("x,1\n")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            firings = _firings(tmp_path)
            if firings and firings[0]["outcome"].startswith(("succeeded", "failed")):
                break
            time.sleep(0.5)
    (firing,) = firings
    assert firing["outcome"] == "succeeded (4 ran)", firing  # force_rerun: nothing reused
    run = queue.get(Workspace(tmp_path).dir, firing["run_id"])
    assert run.request["file"] == "pipeline.yml"
    assert run.request["settings"] == {"force_rerun": True}


def test_a_restarted_server_follows_the_firings_it_had_queued(tmp_path, monkeypatch):
    pytest.importorskip("fastapi", reason="needs amlrun[serve]")
    from fastapi.testclient import TestClient

    from amlrun.schedules.book import Book
    from amlrun.server import queue
    from amlrun.server.app import create_app
    from amlrun.server.schedules import SchedulerService
    from amlrun.workspace import Workspace

    make_workspace(tmp_path)
    (tmp_path / "s.yml").write_text(
        'name: nightly\ntrigger: {type: cron, expression: "0 0 1 1 *"}\n'
        "create_job: ./pipeline.yml\n"
    )
    amlrun("schedule", "create", "-f", "s.yml", cwd=tmp_path, check=True)
    state_dir = Workspace(tmp_path).dir
    run_id, _ = queue.enqueue(state_dir, queue.Submission("pipeline", file="pipeline.yml"))
    book = Book(state_dir / "schedules.sqlite")  # as the stopped server left it
    book.claim("nightly", "2030-01-01T00:00:00Z", "tick", time.time(), "queued")
    book.report("nightly", "2030-01-01T00:00:00Z", run_id, "queued")
    monkeypatch.setenv("AMLRUN_WORKSPACE", str(tmp_path))
    app = create_app(Workspace(tmp_path), max_parallel_runs=1, services=[SchedulerService(0.2)])
    with TestClient(app):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if _firings(tmp_path)[0]["outcome"].startswith(("succeeded", "failed")):
                break
            time.sleep(0.5)
    assert _firings(tmp_path)[0]["outcome"] == "succeeded (4 ran)"
