"""The docker backend against a real, isolated Docker engine (tests/fixtures/docker_engine.py).

Every job runs in the offline-built ``amlrun-test-python:bookworm`` image; outputs are read
back from a store folder. After each test no amlrun container may be left on the engine.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from amlrun.backends import procs
from amlrun.backends.job import Job, JobInput
from amlrun.errors import AmlrunError
from amlrun.hashing import hash_bytes
from amlrun.spec.model import Code, Command, Environment, Module, Port, Ref, Text

docker = pytest.importorskip("docker")

from amlrun_docker import DockerBackend  # noqa: E402 - needs the docker package
from amlrun_docker.backend import LABEL  # noqa: E402

from tests.fixtures.docker_engine import TEST_IMAGE  # noqa: E402

IMAGE_ENV = Environment(kind="image", image=TEST_IMAGE)
MAKE = """\
import pathlib, sys
data = pathlib.Path(sys.argv[1]).read_bytes()
out = pathlib.Path(sys.argv[2])
(out / "upper.txt").write_bytes(data.upper())
(out / "sub").mkdir()
(out / "sub" / "debian.txt").write_text(open("/etc/debian_version").read())
print("made", len(data), "bytes")
"""


@pytest.fixture
def client(docker_host: str) -> Iterator[docker.DockerClient]:
    c = docker.DockerClient(base_url=docker_host)
    yield c
    # only this session's containers: another session may share the engine
    mine = f"amlrun.owner={procs.owner_label()}"
    left = c.containers.list(all=True, filters={"label": [LABEL, mine]})
    c.close()
    assert not left, f"containers left behind: {[x.name for x in left]}"


@pytest.fixture
def backend(docker_host: str, client: docker.DockerClient, tmp_path: Path) -> Iterator:
    b = DockerBackend({"host": docker_host, "workspace": str(tmp_path / "ws"), "network": "none"})
    yield b
    b.close()


def _module(
    code: Path, *items: Text | Ref, env: Environment = IMAGE_ENV, style: str = "shell", **kw
) -> Module:
    return Module(
        name="m",
        version="1",
        command=Command(style, items),
        environment=env,
        code=Code(root=code),
        inputs=kw.pop("inputs", ()),
        outputs=kw.pop("outputs", (Port("out", "uri_folder"),)),
    )


def _job(tmp_path: Path, module: Module, inputs: dict[str, Path] | None = None, **kw) -> Job:
    """A job whose snapshot is ``tmp_path/code`` and whose inputs are local paths."""
    from amlrun.cache.store import open_store

    store_url = str(tmp_path / "store")
    store = open_store(store_url, tmp_path / "ws")
    job_inputs = {}
    for name, path in (inputs or {}).items():
        entries, is_file = store.put_tree(path)
        job_inputs[name] = JobInput(name, path, entries, is_file)
    return Job(
        step="step",
        key=f"test-{time.monotonic_ns()}",
        module=module,
        params={},
        snapshot_dir=module.code.root,
        snapshot_entries=store.put_tree(module.code.root)[0],
        inputs=job_inputs,
        outputs=tuple(p.name for p in module.outputs),
        environment=module.environment,
        store_url=store_url,
        **kw,
    )


def _code(tmp_path: Path, **files: str) -> Path:
    code = tmp_path / "code"
    code.mkdir(exist_ok=True)
    for name, text in files.items():
        (code / name).write_text(text)
    return code


def _restore(tmp_path: Path, entries: dict) -> Path:
    from amlrun.cache.store import open_store

    dest = tmp_path / f"restored-{time.monotonic_ns()}"
    open_store(str(tmp_path / "store"), tmp_path / "ws").materialize(entries, dest, False)
    return dest


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def _log(result) -> str:
    return result.log.decode(errors="replace")


# ---------------------------------------------------------------- running jobs


@pytest.mark.slow
def test_job_runs_in_the_image_and_its_outputs_land_in_the_store(
    backend, client, tmp_path: Path, capfd: pytest.CaptureFixture
) -> None:
    data = tmp_path / "data" / "words.txt"
    data.parent.mkdir()
    data.write_bytes(b"hello docker\n")
    module = _module(
        _code(tmp_path, **{"make.py": MAKE}),
        Text("python make.py "),
        Ref("input", "data"),
        Text(" "),
        Ref("output", "out"),
        inputs=(Port("data", "uri_file"),),
    )

    result = backend.execute(_job(tmp_path, module, {"data": data}, stream_logs=True))

    assert result.exit_code == 0, _log(result)
    assert result.backend == "docker"
    assert result.detail["image_id"] == client.images.get(TEST_IMAGE).id
    assert "made 13 bytes" in _log(result)
    assert "made 13 bytes" in capfd.readouterr().out  # streamed as well as captured
    out = result.outputs["out"]
    assert set(out) == {"upper.txt", "sub/debian.txt"}
    assert out["upper.txt"][0] == hash_bytes(b"HELLO DOCKER\n")
    restored = _restore(tmp_path, out)
    assert (restored / "upper.txt").read_bytes() == b"HELLO DOCKER\n"
    assert (restored / "sub" / "debian.txt").read_text().startswith("12.")  # bookworm's


@pytest.mark.slow
def test_logs_stream_to_a_text_only_stdout(
    backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # doit replaces sys.stdout with a writer that has no binary buffer
    text = io.StringIO()
    monkeypatch.setattr(sys, "stdout", text)
    module = _module(_code(tmp_path), Text("echo 'h\u00e9llo w\u00f6rld'"))

    result = backend.execute(_job(tmp_path, module, stream_logs=True))

    assert result.exit_code == 0, _log(result)
    assert text.getvalue() == "h\u00e9llo w\u00f6rld\n"


@pytest.mark.slow
def test_snapshot_and_inputs_can_come_from_the_store_only(backend, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.txt").write_text("from the store")
    code = _code(tmp_path, **{"cat.sh": 'cat "$1"/a.txt > "$2"/copy.txt\n'})
    module = _module(
        code,
        Text("sh cat.sh "),
        Ref("input", "data"),
        Text(" "),
        Ref("output", "out"),
        inputs=(Port("data", "uri_folder"),),
    )
    job = _job(tmp_path, module, {"data": data})
    stored_only = replace(job.inputs["data"], path=None)
    job = replace(job, snapshot_dir=None, inputs={"data": stored_only})
    shutil.rmtree(code)
    shutil.rmtree(data)

    result = backend.execute(job)

    assert result.exit_code == 0, _log(result)
    assert (_restore(tmp_path, result.outputs["out"]) / "copy.txt").read_text() == "from the store"


@pytest.mark.slow
def test_inputs_are_read_only_in_the_container(backend, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a.txt").write_text("A")
    single = tmp_path / "single.csv"
    single.write_text("x,y\n")
    script = (
        'try() { if sh -c "$1" 2>/dev/null; then echo writable; else echo read-only; fi; }\n'
        'try "echo B > $1/a.txt"\n'
        'try "touch $1/new.txt"\n'
        'try "echo z >> $2"\n'
        'basename "$2"\n'
        'cat "$2"\n'
    )
    module = _module(
        _code(tmp_path, **{"probe.sh": script}),
        Text("sh probe.sh "),
        Ref("input", "folder"),
        Text(" "),
        Ref("input", "single"),
        Text(" > "),
        Ref("output", "out"),
        Text("/report.txt"),
        inputs=(Port("folder", "uri_folder"), Port("single", "uri_file")),
    )

    result = backend.execute(_job(tmp_path, module, {"folder": folder, "single": single}))

    assert result.exit_code == 0, _log(result)
    report = (_restore(tmp_path, result.outputs["out"]) / "report.txt").read_text()
    assert report.splitlines() == ["read-only"] * 3 + ["single.csv", "x,y"]
    assert _files(folder) == {folder / "a.txt"}
    assert (folder / "a.txt").read_text() == "A"
    assert single.read_text() == "x,y\n"


@pytest.mark.slow
def test_command_runs_as_the_invoking_user(client, backend, tmp_path: Path) -> None:
    # an image whose own user is nobody: only the backend's user= makes the command run as us
    context = tmp_path / "nobody"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {TEST_IMAGE}\nUSER 65534:65534\n")
    client.images.build(path=str(context), tag="amlrun-test-nobody:1", rm=True)
    env = Environment(kind="image", image="amlrun-test-nobody:1")
    module = _module(
        _code(tmp_path),
        Text("cd "),
        Ref("output", "out"),
        Text(" && id -u > uid && stat -c %u uid > owner"),
        env=env,
    )

    result = backend.execute(_job(tmp_path, module))

    assert result.exit_code == 0, _log(result)
    restored = _restore(tmp_path, result.outputs["out"])
    # no user namespace: the uid inside is the owner of the written file on this machine
    assert (restored / "uid").read_text() == (restored / "owner").read_text() == f"{os.getuid()}\n"


@pytest.mark.slow
def test_failed_command_returns_its_exit_code_and_stores_nothing(backend, tmp_path: Path) -> None:
    module = _module(
        _code(tmp_path),
        Text("echo never stored > "),
        Ref("output", "out"),
        Text("/partial.txt; echo oops >&2; exit 3"),
    )
    job = _job(tmp_path, module)
    before = _files(tmp_path / "store")

    result = backend.execute(job)

    assert result.exit_code == 3
    assert result.outputs == {}
    assert "oops" in _log(result)  # stderr is captured too
    assert _files(tmp_path / "store") == before


@pytest.mark.slow
def test_timeout_kills_the_container(backend, tmp_path: Path) -> None:
    module = _module(
        _code(tmp_path), Text("sleep 60; echo late > "), Ref("output", "out"), Text("/late.txt")
    )

    started = time.monotonic()
    result = backend.execute(_job(tmp_path, module, timeout_s=1.0))

    assert time.monotonic() - started < 15
    assert result.exit_code == 124
    assert "timed out after 1 s" in _log(result)
    assert result.outputs == {}


@pytest.mark.slow
def test_cancel_kills_the_container(backend, tmp_path: Path) -> None:
    module = _module(_code(tmp_path), Text("sleep 60"))
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()

    started = time.monotonic()
    result = backend.execute(_job(tmp_path, module), cancel)

    assert time.monotonic() - started < 15
    assert result.exit_code == 130
    assert "cancelled" in _log(result)
    assert result.outputs == {}


@pytest.mark.slow
def test_a_program_missing_from_the_image_is_exit_127(backend, tmp_path: Path) -> None:
    module = _module(_code(tmp_path), Text("no-such-program"), Ref("output", "out"), style="argv")

    result = backend.execute(_job(tmp_path, module))

    assert result.exit_code == 127
    assert "no-such-program" in _log(result)


# ---------------------------------------------------------------- environments


@pytest.mark.slow
def test_identity_is_the_image_id_and_follows_a_retag(
    docker_host: str, client, tmp_path: Path
) -> None:
    name = "amlrun-test-retag:1"
    client.images.get(TEST_IMAGE).tag(name)
    env = Environment(kind="image", image=name)
    first = DockerBackend({"host": docker_host}).environment_identity(env)
    assert first == client.images.get(TEST_IMAGE).id

    context = tmp_path / "other"
    context.mkdir()
    (context / "Dockerfile").write_text(f"FROM {TEST_IMAGE}\nLABEL amlrun.test=other\n")
    other, _ = client.images.build(path=str(context), tag=name, rm=True)
    second = DockerBackend({"host": docker_host}).environment_identity(env)

    assert second == other.id != first
    client.images.remove(name, force=True)


@pytest.mark.slow
def test_image_plus_conda_file_is_built_once(docker_host: str, client, tmp_path: Path) -> None:
    # pip's requirement is already in the image: containers have no network to fetch from
    conda = {"dependencies": ["python=3.11", "pip", {"pip": ["setuptools"]}]}
    env = Environment(kind="image", image=TEST_IMAGE, conda=conda, conda_file="conda.yaml")
    options = {"host": docker_host, "network": "none"}
    for image in client.images.list(name="amlrun-env"):  # a build from an earlier session
        client.images.remove(image.id, force=True)

    built = DockerBackend(options).environment_identity(env)

    assert built != client.images.get(TEST_IMAGE).id
    assert [image.id for image in client.images.list(name="amlrun-env")] == [built]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(docker.models.images.ImageCollection, "build", _no_build)
        assert DockerBackend(options).environment_identity(env) == built
    # and a job runs in the built image
    backend = DockerBackend({**options, "workspace": str(tmp_path / "ws")})
    module = _module(
        _code(tmp_path),
        Text("python -c 'import setuptools' && echo ok > "),
        Ref("output", "out"),
        Text("/ok"),
        env=env,
    )
    result = backend.execute(_job(tmp_path, module))
    assert result.exit_code == 0, _log(result)
    assert result.detail["image_id"] == built


def _no_build(*args: object, **kwargs: object) -> None:
    raise AssertionError("the environment was built again")


@pytest.mark.slow
def test_build_context_environment_is_built_and_used(backend, tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "docker").mkdir()
    (context / "docker" / "Containerfile").write_text(
        f"FROM {TEST_IMAGE}\nRUN echo built > /built.txt\n"
    )
    env = Environment(kind="build", build_context=str(context), dockerfile="docker/Containerfile")
    module = _module(_code(tmp_path), Text("cp /built.txt "), Ref("output", "out"), env=env)

    result = backend.execute(_job(tmp_path, module))

    assert result.exit_code == 0, _log(result)
    assert (_restore(tmp_path, result.outputs["out"]) / "built.txt").read_text() == "built\n"


@pytest.mark.slow
def test_conda_only_packages_are_named(backend) -> None:
    conda = {"dependencies": ["python=3.11", "numpy=1.26", "cudatoolkit", {"pip": ["x"]}]}
    env = Environment(kind="image", image=TEST_IMAGE, conda=conda, conda_file="env.yaml")

    with pytest.raises(AmlrunError, match=r"conda-only packages: numpy=1.26, cudatoolkit"):
        backend.environment_identity(env)


@pytest.mark.slow
def test_missing_image_says_how_to_get_it(backend) -> None:
    env = Environment(kind="image", image="amlrun-no-such-image:0")

    with pytest.raises(
        AmlrunError, match=r"'amlrun-no-such-image:0' is not on the docker engine"
    ) as e:
        backend.environment_identity(env)
    assert "docker pull amlrun-no-such-image:0" in str(e.value)


@pytest.mark.slow
def test_environment_without_image_uses_default_image_or_says_so(docker_host: str, client) -> None:
    with pytest.raises(AmlrunError, match="default_image"):
        DockerBackend({"host": docker_host}).environment_identity(Environment())
    backend = DockerBackend({"host": docker_host, "default_image": TEST_IMAGE})
    assert backend.environment_identity(Environment()) == client.images.get(TEST_IMAGE).id


# ---------------------------------------------------------------- the engine


@pytest.mark.slow
def test_availability_names_engine_and_version(backend, docker_host: str) -> None:
    available = backend.availability()

    assert available.ok
    assert available.detail.startswith("docker ")
    assert docker_host.split("://")[-1] in available.detail


def test_unreachable_engine_says_how_to_start_one(tmp_path: Path) -> None:
    backend = DockerBackend({"host": f"unix://{tmp_path}/no.sock"})

    available = backend.availability()
    assert not available.ok
    assert f"unix://{tmp_path}/no.sock" in available.detail
    assert ".ci/docker-engine.sh start" in available.detail
    with pytest.raises(AmlrunError, match="DOCKER_HOST"):
        backend.environment_identity(IMAGE_ENV)


def test_plugin_registers_the_backend() -> None:
    import pluggy
    from amlrun_docker import plugin

    from amlrun.backends import hookspecs

    pm = pluggy.PluginManager("amlrun")
    pm.add_hookspecs(hookspecs)
    pm.register(plugin)
    assert [DockerBackend] in pm.hook.amlrun_backends()
