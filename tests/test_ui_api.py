"""What the web UI's own routes give to whom: the pages to anyone (they hold no data), the
run graph and the schedules list only to a token (or session) with the read scope."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from amlrun.server.app import create_app
from amlrun.server.tokens import create_token
from amlrun.workspace import Workspace
from tests.helpers import run_json
from tests.ui_ws import make_ui_workspace


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    make_ui_workspace(tmp_path)
    return TestClient(create_app(Workspace(tmp_path), dispatch=False))


def test_the_pages_and_the_vendored_layout_library_are_served_without_a_token(client) -> None:
    index = client.get("/")
    assert index.status_code == 200 and "/ui/js/app.js" in index.text
    assert "default-src 'self'" in index.headers["content-security-policy"]
    assert client.get("/ui/vendor/dagre.min.js").text.startswith('"use strict";var dagre=')
    assert client.get("/ui/js/graph.js").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/ui/runs/some-run/graph", "/api/v1/schedules"])
def test_the_ui_data_needs_a_token(client, path: str) -> None:
    assert client.get(path).status_code == 401
    bad = client.get(path, headers={"Authorization": "Bearer amlrun_nope"})
    assert bad.status_code == 401


def test_a_read_token_gets_the_graph_of_a_run_made_with_amlrun_run(client, tmp_path: Path) -> None:
    (tmp_path / "gate").touch()
    run = run_json("pipeline.yml", "--set", f"gate={tmp_path / 'gate'}", cwd=tmp_path)
    read = {"Authorization": f"Bearer {create_token(tmp_path / '.amlrun', 'r', 'read')}"}
    graph = client.get(f"/api/v1/ui/runs/{run['run_id']}/graph", headers=read).json()
    assert [(n["name"], n["status"]) for n in graph["nodes"]] == [
        ("hello", "ran"),
        ("wait", "ran"),
        ("done", "ran"),
    ]
    assert graph["submitted"] is False, "not through the queue: no downloads, no cancel"
    assert client.get("/api/v1/ui/runs/nope/graph", headers=read).status_code == 404
    assert client.get("/api/v1/schedules", headers=read).json() == {"schedules": []}
