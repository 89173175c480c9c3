"""``amlrun serve`` through real HTTP: submissions, reuse, auth, validation, idempotency."""

from __future__ import annotations

import io
import sqlite3
import tarfile
from pathlib import Path

import httpx
import pytest

from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace
from tests.serve_ws import Server, token, wait_run


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The test pipeline published as ``tp``, a server, and one token per scope."""
    root = tmp_path_factory.mktemp("served") / "ws"
    root.mkdir()
    make_workspace(root)
    amlrun("pipeline", "publish", "pipeline.yml", "--name", "tp", cwd=root, check=True)
    tokens = {scope: token(root, scope, scope) for scope in ("read", "submit", "admin")}
    server = Server(root)
    yield server, tokens
    server.stop()


def test_a_curl_submission_runs_the_published_pipeline_and_the_second_is_fully_reused(served):
    server, tokens = served
    # what `curl -H "Authorization: Bearer $T" -d '{"parameters": {"factor": 5}}' ...` sends
    body = b'{"parameters": {"factor": 5}}'
    headers = {"Authorization": f"Bearer {tokens['submit']}", "Content-Type": "application/json"}
    first = httpx.post(f"{server.url}/api/v1/pipelines/tp/runs", content=body, headers=headers)
    assert first.status_code == 202, first.text
    client = server.client(tokens["read"])
    run = wait_run(client, first.json()["run_id"])
    assert run["status"] == "succeeded", run
    assert {s["name"]: s["status"] for s in run["steps"]} == dict.fromkeys(
        ("prep", "train", "report", "side"), "ran"
    )
    assert run["version"] == "1" and run["parameters"] == {"factor": 5}

    second = httpx.post(f"{server.url}/api/v1/pipelines/tp/runs", content=body, headers=headers)
    again = wait_run(client, second.json()["run_id"])

    assert again["status"] == "succeeded"
    assert {s["status"] for s in again["steps"]} == {"reused"}
    assert {s["produced_by"] for s in again["steps"]} == {run["run_id"]}
    listed = [
        r["run_id"] for r in client.get("/api/v1/runs", params={"pipeline": "tp"}).json()["runs"]
    ]
    assert listed[:2] == [again["run_id"], run["run_id"]]


def test_a_run_s_outputs_and_logs_can_be_downloaded(served):
    server, tokens = served
    client = server.client(tokens["submit"])
    run_id = client.post("/api/v1/pipelines/tp/runs", json={"parameters": {"epochs": 2}}).json()[
        "run_id"
    ]
    assert wait_run(client, run_id)["status"] == "succeeded"

    folder = client.get(f"/api/v1/runs/{run_id}/outputs/final")
    single = client.get(f"/api/v1/runs/{run_id}/outputs/side/o")
    log = client.get(f"/api/v1/runs/{run_id}/steps/prep/logs")
    missing = client.get(f"/api/v1/runs/{run_id}/outputs/nope")

    assert folder.status_code == 200 and folder.headers["content-type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(folder.content)) as tar:
        names = tar.getnames()
    assert "out/report.md" in names
    assert single.content == b"hihihi"
    assert log.status_code == 200 and log.headers["content-type"].startswith("text/plain")
    assert missing.status_code == 404 and "final" in missing.json()["detail"]


def test_unauthenticated_and_wrong_scope_calls_are_refused(served):
    server, tokens = served
    paths = server.client(tokens["read"]).get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/pipelines/{name}/runs" in paths
    anonymous = server.client()
    for path, methods in paths.items():
        url = path.format(name="tp", run_id="x", step="prep", version="1")
        for method in methods:
            answer = anonymous.request(method.upper(), url)
            assert answer.status_code == 401, (method, path, answer.text)
    assert anonymous.get("/api/v1/openapi.json").status_code == 401
    assert server.client("amlrun_not-a-token").get("/api/v1/runs").status_code == 401

    refused = server.client(tokens["read"]).post("/api/v1/pipelines/tp/runs", json={})

    assert refused.status_code == 403 and "submit" in refused.json()["detail"]
    assert server.client(tokens["read"]).get("/api/v1/runs").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"parameters": {"factor": 2', ["body", 27]),
        (b'{"parameters": {"nope": 1}}', ["body", "parameters", "nope"]),
        (b'{"parameters": {"factor": "two"}}', ["body", "parameters", "factor"]),
        (b'{"parameters": {"factor": true}}', ["body", "parameters", "factor"]),
        (b'{"inputs": {"raw": "/etc"}}', ["body", "inputs", "raw"]),
        (b'{"inputs": {"nope": "data"}}', ["body", "inputs", "nope"]),
        (b'{"version": "9"}', ["body", "version"]),
        (b'{"parameter": {}}', ["body", "parameter"]),
        (b'{"parameters": [1]}', ["body", "parameters"]),
    ],
)
def test_bad_submissions_get_422_naming_the_field(served, body, field):
    server, tokens = served
    answer = server.client(tokens["submit"]).post(
        "/api/v1/pipelines/tp/runs", content=body, headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 422, answer.text
    assert field in [e["loc"] for e in answer.json()["detail"]]


def test_an_unknown_pipeline_is_404(served):
    server, tokens = served
    answer = server.client(tokens["submit"]).post("/api/v1/pipelines/nope/runs", json={})

    assert answer.status_code == 404 and "nope" in answer.json()["detail"]


def test_the_same_idempotency_key_twice_starts_one_run(served):
    server, tokens = served
    client = server.client(tokens["submit"])
    headers = {"Idempotency-Key": "order-42"}
    body = {"parameters": {"factor": 7}}

    a = client.post("/api/v1/pipelines/tp/runs", json=body, headers=headers)
    b = client.post("/api/v1/pipelines/tp/runs", json=body, headers=headers)
    other = client.post("/api/v1/pipelines/tp/runs", json={"parameters": {}}, headers=headers)

    assert a.status_code == b.status_code == 202
    assert a.json()["run_id"] == b.json()["run_id"]
    assert other.status_code == 409
    runs = client.get("/api/v1/runs").json()["runs"]
    assert sum(r["parameters"] == {"factor": 7} for r in _details(client, runs)) == 1


def _details(client: httpx.Client, runs: list[dict]) -> list[dict]:
    return [client.get(f"/api/v1/runs/{r['run_id']}").json() for r in runs]


def test_published_pipelines_are_listed_with_their_interface(served):
    server, tokens = served
    client = server.client(tokens["read"])

    listed = client.get("/api/v1/pipelines").json()["pipelines"]
    shown = client.get("/api/v1/pipelines/tp").json()

    assert [p["name"] for p in listed] == ["tp"]
    assert listed[0]["default_version"] == "1"
    assert listed[0]["parameters"]["factor"] == {"type": "integer", "default": 2}
    assert [v["version"] for v in shown["versions"]] == ["1"]


def test_tokens_are_stored_only_as_hashes_never_logged_and_revocable(served, tmp_path):
    server, tokens = served
    root = server.root
    secret = token(root, "temp", "read")
    assert server.client(secret).get("/api/v1/runs").status_code == 200

    amlrun("token", "revoke", "temp", cwd=root, check=True)

    assert server.client(secret).get("/api/v1/runs").status_code == 401
    db = sqlite3.connect(root / ".amlrun" / "server.sqlite")
    stored = "\n".join(str(row) for row in db.execute("SELECT * FROM tokens"))
    listed = amlrun("token", "list", cwd=root, check=True).stdout
    for value in (secret, *tokens.values()):
        assert value not in stored and value not in listed and value not in server.output()
    assert "temp" in listed and "revoked" in listed


def test_the_ui_logs_in_with_a_cookie_and_state_changes_need_its_csrf_token(served):
    server, tokens = served
    browser = httpx.Client(base_url=server.url, timeout=30)
    bad = browser.post("/login", data={"token": "wrong", "next": "/x"})
    assert bad.status_code == 303 and "error" in bad.headers["location"]

    login = browser.post("/login", data={"token": tokens["submit"], "next": "/runs"})

    assert login.status_code == 303 and login.headers["location"] == "/runs"
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert tokens["submit"] not in login.headers["set-cookie"]
    csrf = browser.get("/api/v1/session").json()["csrf_token"]
    assert csrf
    no_csrf = browser.post("/api/v1/pipelines/tp/runs", json={})
    assert no_csrf.status_code == 403 and "CSRF" in no_csrf.json()["detail"]
    with_csrf = browser.post("/api/v1/pipelines/tp/runs", json={}, headers={"X-CSRF-Token": csrf})
    assert with_csrf.status_code == 202
    assert browser.post("/logout").status_code == 403  # no CSRF token: not logged out
    assert browser.post("/logout", headers={"X-CSRF-Token": csrf}).status_code == 303
    assert browser.get("/api/v1/session").status_code == 401
    elsewhere = httpx.post(
        f"{server.url}/login", data={"token": tokens["read"], "next": "//evil.example"}
    )
    assert elsewhere.headers["location"] == "/"  # never redirected off this server


def test_a_non_loopback_host_is_refused_while_no_token_exists(tmp_path: Path):
    make_workspace(tmp_path)

    proc = amlrun("serve", "--host", "0.0.0.0", "--port", "1", cwd=tmp_path, timeout=60)

    assert proc.returncode == 2
    assert "no token" in proc.stderr and "amlrun token create" in proc.stderr


def test_a_second_server_for_the_same_workspace_is_refused(served):
    server, _tokens = served

    proc = amlrun("serve", "--port", "1", cwd=server.root, timeout=60)

    assert proc.returncode == 2 and "another amlrun serve" in proc.stderr


def test_the_example_pipeline_published_and_served_runs_then_is_reused(tmp_path: Path):
    """The issue's "done when": publish the example, serve, a token, a curl-style
    submission with parameters runs it, the second one is fully reused."""
    import json
    import shutil

    root = tmp_path / "ws"
    shutil.copytree(Path(__file__).parents[1] / "examples" / "sklearn-pipeline", root)
    (root / ".git").mkdir()
    amlrun("pipeline", "publish", "pipeline.yml", "--name", "sklearn", cwd=root, check=True)
    secret = token(root, "ci", "submit")
    server = Server(root)
    try:
        client = server.client(secret)
        body = {"parameters": {"n_estimators": 20}}
        first = wait_run(
            client, client.post("/api/v1/pipelines/sklearn/runs", json=body).json()["run_id"]
        )
        second = wait_run(
            client, client.post("/api/v1/pipelines/sklearn/runs", json=body).json()["run_id"]
        )
        metrics = client.get(f"/api/v1/runs/{second['run_id']}/outputs/metrics")
    finally:
        server.stop()

    assert first["status"] == "succeeded", first
    assert {s["status"] for s in first["steps"]} == {"ran"}
    assert {s["status"] for s in second["steps"]} == {"reused"}
    with tarfile.open(fileobj=io.BytesIO(metrics.content)) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("metrics.json"))
        assert json.load(tar.extractfile(member))["accuracy"] > 0.9


def test_a_run_shows_each_step_s_upstream_parameters_and_outputs(served):
    server, tokens = served
    client = server.client(tokens["submit"])
    run_id = client.post("/api/v1/pipelines/tp/runs", json={"parameters": {"epochs": 3}}).json()[
        "run_id"
    ]

    run = wait_run(client, run_id)

    steps = {s["name"]: s for s in run["steps"]}
    assert steps["train"]["upstream"] == ["prep"]
    assert steps["train"]["parameters"] == {"epochs": 3}
    assert steps["train"]["inputs"] == {"data": {"step": "prep", "output": "clean"}}
    assert steps["train"]["outputs"] == ["model"]
    assert run["outputs"] == ["final"]


def test_a_data_input_can_be_bound_to_a_folder_of_the_workspace(served):
    server, tokens = served
    other = server.root / "more"
    other.mkdir(exist_ok=True)
    (other / "rows.csv").write_text("x,10\n")
    client = server.client(tokens["submit"])

    answer = client.post("/api/v1/pipelines/tp/runs", json={"inputs": {"raw": "more"}})
    run = wait_run(client, answer.json()["run_id"])
    clean = client.get(f"/api/v1/runs/{run['run_id']}/outputs/prep/clean")

    assert run["status"] == "succeeded"
    assert run["inputs"] == {"raw": str(other.resolve())}
    with tarfile.open(fileobj=io.BytesIO(clean.content)) as tar:
        assert tar.extractfile("clean/clean.csv").read() == b"x,20\n"


def test_a_busy_port_is_a_plain_error(served):
    import socket

    server, _tokens = served
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        root = server.root.parent / "other"
        make_workspace(root)
        proc = amlrun("serve", "--port", str(port), cwd=root, timeout=60)

    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr and "Traceback" not in proc.stderr


def test_a_run_made_with_amlrun_run_is_shown_from_its_record(served):
    """A reused step may link to a run made on the command line: it opens too."""
    server, tokens = served
    result = run_json("pipeline.yml", "--set", "factor=13", cwd=server.root)

    shown = server.client(tokens["read"]).get(f"/api/v1/runs/{result['run_id']}").json()

    assert shown["status"] == "succeeded" and shown["submitted_by"] == "cli"
    assert {s["name"]: s["status"] for s in shown["steps"]} == statuses(result)


def test_only_an_admin_token_manages_versions(served):
    server, tokens = served
    submit, admin = server.client(tokens["submit"]), server.client(tokens["admin"])

    refused = submit.post("/api/v1/pipelines/tp/versions/1/disable")
    disabled = admin.post("/api/v1/pipelines/tp/versions/1/disable")
    blocked = submit.post("/api/v1/pipelines/tp/runs", json={})
    admin.post("/api/v1/pipelines/tp/versions/1/enable")
    missing = admin.put("/api/v1/pipelines/tp/default", json={"version": "9"})

    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert disabled.status_code == 200
    assert blocked.status_code == 409 and "disabled" in blocked.json()["detail"]
    assert submit.post("/api/v1/pipelines/tp/runs", json={}).status_code == 202
    assert missing.status_code == 404
