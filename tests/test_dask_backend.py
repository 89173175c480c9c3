"""The Dask backend against a real local cluster (tests/fixtures/dask_cluster.py).

The store is a folder on this machine, but the jobs' local snapshot and input folders are
deleted before they run: a worker can only succeed by fetching from the store.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from amlrun.backends.job import Job, JobInput
from amlrun.errors import AmlrunError
from amlrun.spec.model import Code, Command, Environment, Module, Port, Ref, Text
from tests.helpers import run_json, statuses
from tests.pipeline_ws import make_workspace

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]

MAKE = """\
import pathlib, sys
data = pathlib.Path(sys.argv[1]).read_bytes()
out = pathlib.Path(sys.argv[2])
(out / "upper.txt").write_bytes(data.upper())
(out / "sub").mkdir()
(out / "sub" / "len.txt").write_text(str(len(data)))
"""
NAP = """\
import pathlib, sys, time
time.sleep(1)
pathlib.Path(sys.argv[2]).write_text("rested")
"""
FAIL = """\
import pathlib, sys
(pathlib.Path(sys.argv[2]) / "partial.txt").write_text("never stored")
sys.exit(3)
"""


@pytest.fixture
def backend(dask_scheduler: str) -> Iterator:
    from amlrun_dask import DaskBackend

    b = DaskBackend({"scheduler": dask_scheduler, "timeout": 20})
    yield b
    b.close()


def _module(code: Path, script: str, out_type: str) -> Module:
    command = Command(
        "shell",
        (Text(f"python {script} "), Ref("input", "data"), Text(" "), Ref("output", "out")),
    )
    return Module(
        name="upper",
        version="1",
        command=command,
        environment=Environment(),
        code=Code(root=code),
        inputs=(Port("data", "uri_file"),),
        outputs=(Port("out", out_type),),
    )


def _job(
    tmp_path: Path, script: str, store_url: str, out_type: str = "uri_folder", **kw: object
) -> Job:
    """A job whose snapshot and input exist only in the store once this returns."""
    from amlrun.cache.store import open_store

    code = tmp_path / "code" / script
    code.mkdir(parents=True)
    (code / "make.py").write_text(MAKE)
    (code / "nap.py").write_text(NAP)
    (code / "fail.py").write_text(FAIL)
    (code / "sleep.py").write_text("import time\ntime.sleep(60)\n")
    data = tmp_path / "data" / script / "words.txt"
    data.parent.mkdir(parents=True)
    data.write_bytes(b"hello dask\n")

    store = open_store(str(store_url), workspace=tmp_path / "ws")
    snapshot, _ = store.put_tree(code)
    data_entries, is_file = store.put_tree(data)
    shutil.rmtree(code)
    shutil.rmtree(data.parent)
    return Job(
        step=script,
        key=f"test-{script}-{time.monotonic_ns()}",
        module=_module(code, script, out_type),
        params={},
        snapshot_dir=code,
        snapshot_entries=snapshot,
        inputs={"data": JobInput("data", data, data_entries, is_file)},
        outputs=("out",),
        environment=Environment(),
        store_url=store_url,
        **kw,
    )


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_outputs_land_in_the_store(backend, tmp_path: Path) -> None:
    from amlrun.cache.store import open_store

    store_dir = tmp_path / "store"
    job = _job(tmp_path, "make.py", str(store_dir))

    result = backend.execute(job)

    assert result.exit_code == 0, result.log.decode(errors="replace")
    assert result.backend == "dask"
    assert result.detail["worker"].startswith("tcp://127.0.0.1:")
    assert set(result.outputs["out"]) == {"upper.txt", "sub/len.txt"}
    restored = tmp_path / "restored"
    open_store(str(store_dir), workspace=tmp_path / "ws").materialize(
        result.outputs["out"], restored, False
    )
    assert (restored / "upper.txt").read_bytes() == b"HELLO DASK\n"
    assert (restored / "sub" / "len.txt").read_text() == "11"


def test_jobs_run_in_parallel_on_both_workers_with_file_outputs(backend, tmp_path: Path) -> None:
    from amlrun.cache.store import open_store

    store_dir = tmp_path / "store"
    jobs = [_job(tmp_path / str(i), "nap.py", str(store_dir), "uri_file") for i in range(2)]
    results: list = [None, None]

    def run(i: int) -> None:
        results[i] = backend.execute(jobs[i])

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert time.monotonic() - started < 1.9  # two 1 s naps side by side
    assert len({r.detail["worker"] for r in results}) == 2
    store = open_store(str(store_dir), workspace=tmp_path / "ws")
    for r in results:
        assert r.exit_code == 0, r.log
        assert list(r.outputs["out"]) == [""]  # a single file
        assert store.get_bytes(r.outputs["out"][""][0]) == b"rested"


def test_an_s3_store_needs_no_shared_disk(
    backend, dask_scheduler: str, s3_server, tmp_path: Path
) -> None:
    from amlrun.cache.store import open_store
    from tests.fixtures.dask_cluster import worker_env

    url = f"{s3_server.url}/dask-{time.monotonic_ns()}"
    job = _job(tmp_path, "make.py", url)
    aws = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}

    with pytest.raises(AmlrunError, match=r"could not fetch .* credentials set on the workers"):
        backend.execute(job)  # the workers have no credentials yet
    with worker_env(dask_scheduler, aws):
        result = backend.execute(job)

    assert result.exit_code == 0, result.log.decode(errors="replace")
    restored = tmp_path / "restored"
    open_store(url, workspace=tmp_path / "ws").materialize(result.outputs["out"], restored, False)
    assert (restored / "upper.txt").read_bytes() == b"HELLO DASK\n"


def test_unreachable_store_is_explained(backend, tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    job = _job(tmp_path, "make.py", str(store_dir))
    shutil.rmtree(store_dir / "cas")  # what a worker sees when the folder is not shared

    with pytest.raises(AmlrunError, match=r"could not fetch .* every worker must reach it"):
        backend.execute(job)


def test_memory_store_is_refused_with_the_reason(backend, tmp_path: Path) -> None:
    job = _job(tmp_path, "make.py", "memory://amlrun-test")

    with pytest.raises(AmlrunError, match=r"workers fetch .* from the store") as err:
        backend.execute(job)
    assert "shared folder" in str(err.value)
    assert "s3://" in str(err.value)


def test_failing_command_returns_its_exit_code_and_stores_nothing(backend, tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    job = _job(tmp_path, "fail.py", str(store_dir))
    before = _files(store_dir)

    result = backend.execute(job)

    assert result.exit_code == 3
    assert result.outputs == {}
    assert _files(store_dir) == before


def test_cancel_stops_the_command_on_the_worker(backend, tmp_path: Path) -> None:
    job = _job(tmp_path, "sleep.py", str(tmp_path / "store"))
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()

    started = time.monotonic()
    result = backend.execute(job, cancel)

    assert result.exit_code != 0
    assert result.outputs == {}
    assert time.monotonic() - started < 5


def test_timeout_stops_the_command(backend, tmp_path: Path) -> None:
    job = _job(tmp_path, "sleep.py", str(tmp_path / "store"), timeout_s=1.0)

    started = time.monotonic()
    result = backend.execute(job)

    assert result.exit_code != 0
    assert b"timed out" in result.log
    assert result.outputs == {}
    assert time.monotonic() - started < 5


def test_availability_reports_the_workers(backend) -> None:
    available = backend.availability()

    assert available.ok
    assert "2 worker" in available.detail


def test_availability_says_why_not(monkeypatch: pytest.MonkeyPatch) -> None:
    from amlrun_dask import DaskBackend

    monkeypatch.delenv("AMLRUN_DASK_SCHEDULER", raising=False)
    assert "no dask scheduler configured" in DaskBackend({}).availability().detail
    down = DaskBackend({"scheduler": "tcp://127.0.0.1:9", "timeout": 1}).availability()
    assert not down.ok
    assert "cannot reach the dask scheduler at tcp://127.0.0.1:9" in down.detail


def test_environment_identity_matches_the_local_backend(backend) -> None:
    from amlrun.backends.local import LocalBackend

    for env in (Environment(), Environment(kind="pip", pip=("six==1.16.0",))):
        assert backend.environment_identity(env) == LocalBackend().environment_identity(env)


def test_plugin_registers_the_backend() -> None:
    import pluggy
    from amlrun_dask import DaskBackend, plugin

    from amlrun.backends import hookspecs

    pm = pluggy.PluginManager("amlrun")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin)
    assert [DaskBackend] in pm.hook.amlrun_backends()


def test_a_pipeline_run_locally_is_reused_on_dask_and_edits_rerun_there(
    dask_scheduler: str, tmp_path: Path
) -> None:
    pipeline = make_workspace(tmp_path / "ws")
    ws = pipeline.parent
    env = _with_plugin_installed(tmp_path / "site")
    local = run_json(str(pipeline), cwd=ws, env=env)
    assert set(statuses(local).values()) == {"ran"}, local
    train = ws / "train/src/train.py"
    train.write_text(train.read_text().replace("total * a.epochs", "total * a.epochs + 1"))

    dask = ["--backend", "dask", "--scheduler", dask_scheduler, "-j", "2"]
    result = run_json(str(pipeline), *dask, "--output", f"final={ws / 'final'}", cwd=ws, env=env)

    assert statuses(result) == {"prep": "reused", "train": "ran", "report": "ran", "side": "reused"}
    assert (ws / "final" / "report.md").read_text() == "# report\nsum=13\n"
    train_key = next(s["key"] for s in result["steps"] if s["name"] == "train")
    manifest = json.loads((ws / ".amlrun/cache/steps" / f"{train_key}.json").read_text())
    assert manifest["backend"] == "dask"
    again = run_json(str(pipeline), cwd=ws, env=env)  # and back: local reuses dask's results
    assert set(statuses(again).values()) == {"reused"}


def _with_plugin_installed(site: Path) -> dict[str, str]:
    """The CLI finds plugins by entry point; outside ``pip install -e .`` declare it here."""
    from importlib.metadata import entry_points

    paths = [str(REPO), str(REPO / "plugins" / "dask")]
    if not any(ep.value == "amlrun_dask.plugin" for ep in entry_points(group="amlrun")):
        dist = site / "amlrun_dask_dev-0.dist-info"
        dist.mkdir(parents=True)
        (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: amlrun-dask-dev\nVersion: 0\n")
        (dist / "entry_points.txt").write_text("[amlrun]\ndask = amlrun_dask.plugin\n")
        paths.insert(0, str(site))
    return {"PYTHONPATH": os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")])}


def test_a_link_out_of_a_code_folder_never_reaches_the_store_from_dask(
    dask_scheduler: str, tmp_path: Path
) -> None:
    secret = b"token=only-on-this-machine\n"
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "key").write_bytes(secret)
    pipeline = make_workspace(tmp_path / "ws")
    ws = pipeline.parent
    (ws / "prep/src/key").symlink_to(tmp_path / "private" / "key")
    dask = ["--backend", "dask", "--scheduler", dask_scheduler]
    result = run_json(str(pipeline), *dask, cwd=ws, env=_with_plugin_installed(tmp_path / "site"))

    assert statuses(result)["prep"] == "failed" and statuses(result)["side"] == "ran"
    assert "prep/src/key" in next(s["reason"] for s in result["steps"] if s["name"] == "prep")
    stored = [p for p in (ws / ".amlrun").rglob("*") if p.is_file() and not p.is_symlink()]
    assert all(p.read_bytes() != secret for p in stored)
