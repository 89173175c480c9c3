"""Python's cyclic collector is paused while a run plans and records (it found nothing there
and cost a third of a 10,000-step null run) and runs as usual while steps execute."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

import amlrun as api
from amlrun.engine.execute import Executor
from amlrun.engine.records import Records
from tests.pipeline_ws import make_workspace


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch) -> Path:
    pipeline = make_workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AMLRUN_WORKSPACE", str(tmp_path))
    return pipeline


def _watch(monkeypatch, cls: type, name: str) -> list[bool]:
    """Whether the collector was on at each call of ``cls.name``."""
    seen: list[bool] = []
    method = getattr(cls, name)

    def watched(self, *args, **kwargs):
        seen.append(gc.isenabled())
        return method(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, watched)
    return seen


def test_a_null_rerun_plans_and_records_with_the_collector_paused(workspace: Path, monkeypatch):
    api.run(api.load_pipeline(workspace), quiet=True)
    planning = _watch(monkeypatch, Executor, "uptodate")
    recording = _watch(monkeypatch, Records, "finish")

    result = api.run(api.load_pipeline(workspace), quiet=True)

    assert {s.status for s in result.steps} == {"reused"}
    assert planning and not any(planning) and recording == [False]
    assert gc.isenabled()  # as it was before the run


def test_steps_execute_with_the_collector_running(workspace: Path, monkeypatch):
    executing = _watch(monkeypatch, Executor, "execute")

    result = api.run(api.load_pipeline(workspace), quiet=True)

    assert {s.status for s in result.steps} == {"ran"}
    assert executing and all(executing)


def test_a_run_leaves_a_paused_collector_paused(workspace: Path):
    gc.disable()
    try:
        api.run(api.load_pipeline(workspace), quiet=True)
        assert not gc.isenabled()
    finally:
        gc.enable()
