"""A team cache on S3 is read lazily: a reused step costs its manifest, never its data,
unless a step that runs (or the user) needs that data; data that turns out lost or corrupt
when fetched makes its step rerun, never a wrong or half-restored input.

The client talks to moto's real server through a counting proxy (tests/fixtures), so "no
blob was downloaded" is what crossed the wire, not what the code claims.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from amlrun.cache.base import blob_rel
from amlrun.cache.store import open_store
from tests.fixtures.counting_proxy import CountingProxy, counting_proxy
from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace

pytestmark = pytest.mark.slow


@pytest.fixture
def team(s3_server, tmp_path: Path) -> Iterator[tuple[str, CountingProxy]]:
    """A team cache filled by a "main" job, and a proxy counting what a PR job transfers."""
    url = f"{s3_server.url}/team-{uuid.uuid4().hex[:8]}"
    main = tmp_path / "main"
    first = run_json(str(make_workspace(main)), "--store", f".amlrun/cache,{url}", cwd=main)
    assert set(statuses(first).values()) == {"ran"}
    with counting_proxy(s3_server.endpoint) as proxy:
        yield url, proxy


def _pr(tmp_path: Path, proxy: CountingProxy, *args: str) -> dict:
    ws = tmp_path / "pr"
    pipeline = ws / "pipeline.yml"
    if not pipeline.exists():
        make_workspace(ws)
    return run_json(str(pipeline), *args, cwd=ws, env={"AWS_ENDPOINT_URL": proxy.endpoint})


def _blob_gets(proxy: CountingProxy) -> set[str]:
    return {e.path.rsplit("/", 1)[-1] for e in proxy.reset() if "/cas/" in e.path}


def _output_blobs(url: str, tmp_path: Path, result: dict, step: str) -> set[str]:
    key = next(s["key"] for s in result["steps"] if s["name"] == step)
    manifest = open_store(url, tmp_path).get_manifest(key)
    assert manifest is not None
    return {h for o in manifest["outputs"].values() for h, _s, _m in o["entries"].values()}


def test_a_fully_reused_pipeline_downloads_manifests_only_and_the_next_run_nothing(
    team: tuple[str, CountingProxy], tmp_path: Path
) -> None:
    url, proxy = team
    store = f".amlrun/cache,{url}?ro"

    result = _pr(tmp_path, proxy, "--store", store)

    assert set(statuses(result).values()) == {"reused"}
    exchanges = proxy.reset()
    # one request: the index the main job wrote holds every step's key and manifest
    assert [(e.method, e.path.split("/")[3]) for e in exchanges] == [("GET", "pipelines")]
    assert not list((tmp_path / "pr/.amlrun/cache/cas").glob("*/*"))
    again = _pr(tmp_path, proxy, "--store", store)
    assert set(statuses(again).values()) == {"reused"}
    assert proxy.reset() == []  # manifests are kept locally by key


def test_only_the_inputs_of_steps_that_run_and_asked_outputs_are_downloaded(
    team: tuple[str, CountingProxy], tmp_path: Path
) -> None:
    url, proxy = team
    _pr(tmp_path, proxy, "--store", f".amlrun/cache,{url}?ro")
    proxy.reset()
    train = tmp_path / "pr/train/src/train.py"
    train.write_text(train.read_text() + "# edited in the pull request\n")

    result = _pr(
        tmp_path, proxy, "--store", f".amlrun/cache,{url}?ro",
        "--output", f"side.outputs.o={tmp_path / 'side.txt'}",
    )  # fmt: skip

    assert statuses(result) == {
        "prep": "reused",
        "train": "ran",
        "report": "reused",  # train's output did not change (early cutoff)
        "side": "reused",
    }
    prep, side = (_output_blobs(url, tmp_path, result, s) for s in ("prep", "side"))
    assert _blob_gets(proxy) == prep | side  # train's input, and the asked output
    assert (tmp_path / "side.txt").read_text() == "hihihi"


def test_a_reused_step_whose_remote_data_is_corrupt_reruns_when_a_step_needs_it(
    team: tuple[str, CountingProxy], tmp_path: Path
) -> None:
    url, proxy = team
    first = _pr(tmp_path, proxy, "--store", f".amlrun/cache,{url}?ro")
    remote = open_store(url, tmp_path)
    (h,) = _output_blobs(url, tmp_path, first, "prep")
    remote.fs.pipe_file(remote._path(blob_rel(h)), b"a,999\n")
    train = tmp_path / "pr/train/src/train.py"
    train.write_text(train.read_text() + "# edited in the pull request\n")

    result = _pr(tmp_path, proxy, "--store", f".amlrun/cache,{url}?ro")

    steps = {s["name"]: s for s in result["steps"]}
    assert statuses(result) == {
        "prep": "ran",
        "train": "ran",
        "report": "reused",
        "side": "reused",
    }
    assert "reran" in steps["prep"]["reason"] and "unusable" in steps["prep"]["reason"]
    staged = tmp_path / "pr/.amlrun/out" / steps["prep"]["key"] / "clean/clean.csv"
    assert staged.read_text() == "a,2\nb,4\nc,6\n"  # the rerun's bytes, not the poisoned ones


def test_runs_outputs_fetches_a_reused_step_that_was_never_downloaded(
    team: tuple[str, CountingProxy], tmp_path: Path
) -> None:
    url, proxy = team
    result = _pr(tmp_path, proxy, "--store", f".amlrun/cache,{url}?ro")
    (tmp_path / "pr/pyproject.toml").write_text(
        f'[tool.amlrun]\nstore = ".amlrun/cache,{url}?ro"\n'
    )

    proc = amlrun(
        "runs", "outputs", result["run_id"], "train", "-o", str(tmp_path / "got"),
        cwd=tmp_path / "pr", env={"AWS_ENDPOINT_URL": proxy.endpoint},
    )  # fmt: skip

    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "got/train/model/model.txt").read_text() == "sum=12\n"


def test_a_fresh_clone_explains_a_rerun_from_the_team_cache_not_never_run(
    team: tuple[str, CountingProxy], tmp_path: Path
) -> None:
    url, proxy = team
    ws = tmp_path / "pr"
    make_workspace(ws)
    train = ws / "train/src/train.py"
    train.write_text(train.read_text() + "# edited in the pull request\n")
    env = {"AWS_ENDPOINT_URL": proxy.endpoint}
    store = f".amlrun/cache,{url}?ro"

    proc = amlrun("status", str(ws / "pipeline.yml"), "--store", store, "--json", cwd=ws, env=env)
    asked = [e.path for e in proxy.reset() if e.method == "GET"]
    assert not (ws / ".amlrun").exists()  # looking creates nothing
    assert len(asked) == len(set(asked))  # each manifest fetched once (in the batch)
    result = run_json(str(ws / "pipeline.yml"), "--store", store, cwd=ws, env=env)

    assert proc.returncode == 0, proc.stderr
    planned = {s["name"]: s["reason"] for s in json.loads(proc.stdout)["steps"]}
    assert planned["train"] == "snapshot files changed: train.py"
    ran = {s["name"]: s["reason"] for s in result["steps"]}
    assert ran["train"] == "snapshot files changed: train.py"


def test_a_failed_upload_fails_the_run_naming_the_store_and_the_local_entry_stays(
    s3_server, tmp_path: Path
) -> None:
    ws = tmp_path / "main"
    pipeline = str(make_workspace(ws))
    broken = "s3://no-such-bucket/cache"  # every write is refused by the real server

    proc = amlrun("run", pipeline, "--store", f".amlrun/cache,{broken}", "--json", cwd=ws)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    steps = json.loads(proc.stdout.strip().splitlines()[-1])["steps"]
    assert {s["status"] for s in steps} == {"failed"}
    assert all(f"upload to store {broken} failed" in s["reason"] for s in steps)
    again = run_json(pipeline, "--store", ".amlrun/cache", cwd=ws)
    assert set(statuses(again).values()) == {"reused"}  # the local entries stayed


def test_module_debug_of_a_step_reused_lazily_fetches_its_inputs_then(
    team: tuple[str, CountingProxy], tmp_path: Path
) -> None:
    url, proxy = team
    store = f".amlrun/cache,{url}?ro"
    result = _pr(tmp_path, proxy, "--store", store)
    proxy.reset()

    proc = amlrun(
        "module", "debug", result["run_id"], "train", "--store", store, "-o", str(tmp_path / "dbg"),
        cwd=tmp_path / "pr", env={"AWS_ENDPOINT_URL": proxy.endpoint},
    )  # fmt: skip

    assert proc.returncode == 0, proc.stderr
    prep = next(s["key"] for s in result["steps"] if s["name"] == "prep")
    staged = tmp_path / "pr/.amlrun/out" / prep / "clean"
    assert (staged / "clean.csv").read_text() == "a,2\nb,4\nc,6\n"
    assert str(staged) in (tmp_path / "dbg/run.sh").read_text()  # the input it reads
    assert _blob_gets(proxy) == _output_blobs(url, tmp_path, result, "prep")


def test_manifests_from_the_index_are_checked_like_any_other_a_wrong_signature_is_a_miss(
    s3_server, tmp_path: Path
) -> None:
    url = f"{s3_server.url}/signed-{uuid.uuid4().hex[:8]}"
    main = tmp_path / "main"
    writer = {"AMLRUN_CACHE_SECRET": "team-secret"}
    run_json(str(make_workspace(main)), "--store", f".amlrun/cache,{url}", cwd=main, env=writer)
    results = {}
    for name, secret in (("trusting", "team-secret"), ("other", "another-secret")):
        ws = tmp_path / name
        pipeline = str(make_workspace(ws))
        env = {"AMLRUN_CACHE_SECRET": secret}
        results[name] = run_json(pipeline, "--store", f".amlrun/cache,{url}?ro", cwd=ws, env=env)

    assert set(statuses(results["trusting"]).values()) == {"reused"}
    assert set(statuses(results["other"]).values()) == {"ran"}  # signed by someone else
