"""A shared cache that a job without the team's secret wrote to is never trusted by one with
it, and entries move between layers only through ``amlrun cache push`` / ``pull``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amlrun.cache.store import open_store
from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace

SECRET = "team-secret-4b1d"
ALL = {"prep", "train", "report", "side"}


def _run(ws: Path, store: str, secret: str | None = None):
    env = {"AMLRUN_CACHE_SECRET": secret} if secret else {"AMLRUN_CACHE_SECRET": ""}
    result = amlrun("run", str(ws / "pipeline.yml"), "--json", "--store", store, cwd=ws, env=env)
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
    assert result.returncode == 0 and lines, result.stderr
    return statuses(json.loads(lines[-1])), result.stderr


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    return tmp_path / "team-cache"


def _pr_job(tmp_path: Path, shared: Path, secret: str | None):
    ws = tmp_path / "pr"
    make_workspace(ws)
    return _run(ws, f".amlrun/cache,{shared}?ro", secret)


def test_entries_signed_with_the_teams_secret_are_reused(tmp_path: Path, shared: Path) -> None:
    make_workspace(tmp_path / "main")
    _run(tmp_path / "main", str(shared), SECRET)

    steps, stderr = _pr_job(tmp_path, shared, SECRET)

    assert set(steps.values()) == {"reused"} and "signature" not in stderr
    assert all("sig" in json.loads(p.read_text()) for p in (shared / "steps").iterdir())
    records = [p for p in (tmp_path / "pr" / ".amlrun").rglob("*") if p.is_file()]
    assert not [p for p in records if SECRET.encode() in p.read_bytes()]


def test_with_the_secret_unsigned_shared_entries_are_misses_with_one_warning(
    tmp_path: Path, shared: Path
) -> None:
    make_workspace(tmp_path / "main")
    _run(tmp_path / "main", str(shared))  # a writer without the secret

    steps, stderr = _pr_job(tmp_path, shared, SECRET)

    assert set(steps.values()) == {"ran"}
    warnings = [ln for ln in stderr.splitlines() if ln.startswith("warning:")]
    assert len(warnings) == 1 and "is not signed (AMLRUN_CACHE_SECRET is set)" in warnings[0]


def test_entries_signed_with_another_secret_are_misses(tmp_path: Path, shared: Path) -> None:
    make_workspace(tmp_path / "main")
    _run(tmp_path / "main", str(shared), "an-attackers-secret")

    steps, stderr = _pr_job(tmp_path, shared, SECRET)

    assert set(steps.values()) == {"ran"} and "has a bad signature" in stderr


def test_a_signed_manifest_edited_afterwards_is_a_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMLRUN_CACHE_SECRET", SECRET)
    store = open_store(str(tmp_path / "store"), tmp_path)
    h = store.put_bytes(b"model")
    store.put_manifest("k1", {"outputs": {"m": {"is_file": True, "entries": {"": [h, 5, 0o644]}}}})
    path = tmp_path / "store" / "steps" / "k1.json"
    doc = json.loads(path.read_text())
    assert store.get_manifest("k1") is not None

    doc["outputs"]["m"]["entries"][""][2] = 0o755  # same blob, another mode: still poison
    path.write_text(json.dumps(doc))

    assert store.get_manifest("k1") is None


def test_a_secret_file_signs_like_the_variable(
    tmp_path: Path, shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "cache.key"
    key_file.write_text(SECRET + "\n")
    make_workspace(tmp_path / "main")
    monkeypatch.setenv("AMLRUN_CACHE_SECRET_FILE", str(key_file))
    _run(tmp_path / "main", str(shared))
    monkeypatch.delenv("AMLRUN_CACHE_SECRET_FILE")

    steps, _ = _pr_job(tmp_path, shared, SECRET)

    assert set(steps.values()) == {"reused"}


def test_an_unreadable_secret_file_is_bad_input(tmp_path: Path) -> None:
    pipeline = make_workspace(tmp_path)
    env = {"AMLRUN_CACHE_SECRET_FILE": str(tmp_path / "missing.key")}

    proc = amlrun("run", str(pipeline), cwd=tmp_path, env=env)

    assert proc.returncode == 2 and "AMLRUN_CACHE_SECRET_FILE" in proc.stderr


def test_push_copies_a_runs_entries_to_the_shared_store_and_a_fresh_clone_reuses_them(
    tmp_path: Path, shared: Path
) -> None:
    main = tmp_path / "main"
    make_workspace(main)
    (main / "pyproject.toml").write_text(f'[tool.amlrun]\nstore = ".amlrun/cache,{shared}?ro"\n')
    run_json(str(main / "pipeline.yml"), cwd=main)
    assert not shared.exists()  # ?ro: the run itself wrote nothing there

    push = amlrun("cache", "push", cwd=main, check=True)
    again = amlrun("cache", "push", cwd=main, check=True)

    assert "pushed 4 entries" in push.stdout and "4 already there" in again.stdout
    assert set(_pr_job(tmp_path, shared, None)[0].values()) == {"reused"}


def test_pull_fills_the_workspace_store_from_the_shared_one(tmp_path: Path, shared: Path) -> None:
    make_workspace(tmp_path / "main")
    _run(tmp_path / "main", str(shared))
    ws = tmp_path / "pr"
    make_workspace(ws)

    proc = amlrun("cache", "pull", "--from", str(shared), "--all", cwd=ws, check=True)

    assert "pulled 4 entries" in proc.stdout
    assert set(_run(ws, ".amlrun/cache")[0].values()) == {"reused"}  # no shared layer needed


def test_push_without_a_shared_store_says_how_to_name_one(tmp_path: Path) -> None:
    run_json(str(make_workspace(tmp_path)), cwd=tmp_path)

    proc = amlrun("cache", "push", cwd=tmp_path)

    assert proc.returncode == 2 and "--to s3://team/cache" in proc.stderr
