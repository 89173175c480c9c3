"""Clean after a kill, through the CLI: a SIGKILLed amlrun takes its steps' process groups
(grandchildren too) with it, the next run removes the temporary folders a dead run left
(never a live run's), and concurrent runs on one store execute each key once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import run_json, statuses

SPAWN = """
    import os, subprocess, sys
    pids = sys.argv[1]
    child = subprocess.Popen(["sh", "-c", 'sleep 300 & echo $! >> "$0"; sleep 300', pids])
    with open(pids, "a") as f:
        f.write(f"{os.getpid()}\\n{child.pid}\\n")
    child.wait()
"""
SPAWN_COMPONENT = """
    type: command
    name: spawn
    outputs:
      o: {{type: uri_folder}}
    code: ./src
    command: python spawn.py {pids} ${{{{outputs.o}}}}
"""
SPAWN_PIPELINE = """
    type: pipeline
    jobs:
      spawn:
        component: ./spawn.yml
"""


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    (root / ".git").mkdir(exist_ok=True)


def _start(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from amlrun.cli.main import main; main()", *args],
        cwd=cwd,
        env={**os.environ, "AMLRUN_WORKSPACE": str(cwd)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for a parent to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


@pytest.fixture
def killed_run() -> Iterator[Callable[[Path], list[int]]]:
    """SIGKILLs an amlrun whose step runs ``sh -c 'sleep 300 & sleep 300'``; the step's pids.

    Whatever of the step survives is killed afterwards, so a failing test leaves nothing.
    """
    pids: list[int] = []
    yield lambda ws: pids.extend(_killed_run(ws)) or pids
    for pid in filter(_alive, pids):
        os.kill(pid, signal.SIGKILL)


def _killed_run(ws: Path) -> list[int]:
    pids = ws.parent / "pids.txt"
    _write(ws, {"spawn.yml": SPAWN_COMPONENT.format(pids=pids), "src/spawn.py": SPAWN})
    _write(ws, {"pipeline.yml": SPAWN_PIPELINE})
    proc = _start("run", str(ws / "pipeline.yml"), cwd=ws)
    deadline = time.time() + 60
    while time.time() < deadline and len(_pids(pids)) < 3:
        time.sleep(0.05)
    assert len(_pids(pids)) == 3, proc.stderr.read() if proc.poll() is not None else "slow"
    proc.kill()  # SIGKILL amlrun alone: no handler, no cleanup code of its own runs
    proc.communicate()
    return _pids(pids)


def _pids(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def test_a_killed_amlrun_takes_its_step_and_the_steps_grandchildren_with_it(
    tmp_path: Path, killed_run
):
    step_pids = killed_run(tmp_path / "ws")
    deadline = time.time() + 10
    while time.time() < deadline and any(map(_alive, step_pids)):
        time.sleep(0.05)
    assert [p for p in step_pids if _alive(p)] == []


def test_the_next_run_removes_a_dead_runs_temporary_folders_but_not_a_live_ones(
    tmp_path: Path, killed_run
):
    ws = tmp_path / "ws"
    killed_run(ws)
    left = [p.name for p in (ws / ".amlrun" / "tmp").iterdir()]
    assert left and all(n.startswith("spawn-") for n in left)  # the killed step's work folder
    dead = _dead_pid()
    live = os.getpid()
    dot = ws / ".amlrun"
    planted = {
        f"tmp/train-p{dead}-abcd1234/code/x.py": True,
        f"snapshots/0123abcd.{dead}.77.tmp/x.py": True,
        f"out/k1/.model.{dead}.77.tmp/part": True,
        f"out/k1/.model.old.{dead}.78.tmp": True,
        f"tmp/train-p{live}-abcd1234/code/x.py": False,  # a live run's: must stay
        f"snapshots/0123abcd.{live}.77.tmp/x.py": False,
        "out/k1/model/done.txt": False,  # not temporary
    }
    for rel in planted:
        (dot / rel).parent.mkdir(parents=True, exist_ok=True)
        (dot / rel).write_text("x")
    (ws / "src" / "spawn.py").write_text("print('quick')\n")

    result = run_json(str(ws / "pipeline.yml"), cwd=ws)

    assert statuses(result) == {"spawn": "ran"}
    assert [n for n in left if (dot / "tmp" / n).exists()] == []
    assert {rel: (dot / rel).exists() for rel in planted} == {
        rel: not gone for rel, gone in planted.items()
    }


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_a_killed_runs_key_lock_does_not_hold_up_the_next_run(tmp_path: Path):
    ws, flag = tmp_path / "ws", tmp_path / "slow"
    slow = f"import os, time\nopen({str(tmp_path / 'pids.txt')!r}, 'a').write('1 2 3')\n"
    slow += f"time.sleep(300 if os.path.exists({str(flag)!r}) else 0)\n"
    _write(ws, {"spawn.yml": SPAWN_COMPONENT.format(pids=tmp_path), "src/spawn.py": slow})
    _write(ws, {"pipeline.yml": SPAWN_PIPELINE})
    flag.touch()
    proc = _start("run", str(ws / "pipeline.yml"), cwd=ws)
    deadline = time.time() + 60
    while time.time() < deadline and not (tmp_path / "pids.txt").exists():
        time.sleep(0.05)
    time.sleep(0.2)
    proc.kill()  # while it holds the step's key lock
    proc.communicate()
    flag.unlink()

    started = time.time()
    result = run_json(str(ws / "pipeline.yml"), cwd=ws, timeout=60)

    assert statuses(result) == {"spawn": "ran"}  # the same key: it took the lock at once
    assert time.time() - started < 20


BACKGROUND = """
    import subprocess, sys
    child = subprocess.Popen(["sleep", "30"])  # inherits stdout: the step's log pipe
    open(sys.argv[1], "w").write(str(child.pid))
"""


def test_a_background_child_ends_with_its_step_instead_of_holding_the_run(tmp_path: Path):
    ws, pid_file = tmp_path / "ws", tmp_path / "pid"
    _write(ws, {"spawn.yml": SPAWN_COMPONENT.format(pids=pid_file), "src/spawn.py": BACKGROUND})
    _write(ws, {"pipeline.yml": SPAWN_PIPELINE})
    started = time.time()
    try:
        result = run_json(str(ws / "pipeline.yml"), cwd=ws)
        assert statuses(result) == {"spawn": "ran"}
        assert time.time() - started < 15  # not the 30 s the background sleep would take
        assert not _alive(int(pid_file.read_text()))
    finally:
        if pid_file.exists() and _alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


COUNT = """
    import pathlib, sys, time
    log, n, prev, out = sys.argv[1:]
    with open(log, "a") as f:
        f.write(f"s{n}\\n")
    time.sleep(0.1)
    text = "".join(p.read_text() for p in sorted(pathlib.Path(prev).glob("*.txt")))
    pathlib.Path(out, "o.txt").write_text(text + f"{n}\\n")
"""
COUNT_COMPONENT = """
    type: command
    name: count
    inputs:
      prev: {{type: uri_folder}}
      n: {{type: integer}}
    outputs:
      o: {{type: uri_folder}}
    code: ./src
    command: python count.py {log} ${{{{inputs.n}}}} ${{{{inputs.prev}}}} ${{{{outputs.o}}}}
"""


def _wide_chains(n: int) -> str:
    """``n`` steps in chains of five, so concurrent runs meet both at heads and mid-chain."""
    lines = ["type: pipeline", "inputs:", "  seed: {type: uri_folder, path: ./data}", "jobs:"]
    for i in range(n):
        up = f"${{{{parent.jobs.s{i - 1}.outputs.o}}}}"
        prev = "${{parent.inputs.seed}}" if i % 5 == 0 else up
        lines += [f"  s{i}:", "    component: ./count.yml", "    inputs:"]
        lines += [f"      prev: {prev}", f"      n: {i}"]
    return "\n".join(lines) + "\n"


def test_four_concurrent_runs_on_one_store_execute_every_step_exactly_once(tmp_path: Path):
    ws, log = tmp_path / "ws", tmp_path / "commands.log"
    _write(ws, {"count.yml": COUNT_COMPONENT.format(log=log), "src/count.py": COUNT})
    _write(ws, {"data/seed.txt": "seed\n", "pipeline.yml": _wide_chains(20)})

    runs = [_start("run", str(ws / "pipeline.yml"), "-j", "2", cwd=ws) for _ in range(4)]
    finished = [(p.wait(timeout=240), p.communicate()) for p in runs]

    assert [code for code, _ in finished] == [0] * 4, finished
    executed = log.read_text().split()
    assert sorted(executed) == sorted(f"s{i}" for i in range(20))  # each once, none twice
    assert list((ws / ".amlrun" / "cache" / "locks").iterdir()) == []  # no lock files left
    assert _stored_outputs(ws / ".amlrun" / "cache") == {  # each read all its upstream wrote
        f"s{i}": "seed\n" + "".join(f"{n}\n" for n in range(i - i % 5, i + 1)) for i in range(20)
    }


def _stored_outputs(store: Path) -> dict[str, str]:
    """Step name -> the text of its output ``o.txt``, as the store holds it."""
    texts = {}
    for path in (store / "steps").glob("*.json"):
        manifest = json.loads(path.read_text())
        h = manifest["outputs"]["o"]["entries"]["o.txt"][0]
        texts[manifest["step"]] = (store / "cas" / h[:2] / h).read_text()
    return texts


SLEEPER = """
    type: command
    name: sleeper
    outputs:
      o: {type: uri_folder}
    command: sleep 300
"""


@pytest.mark.slow
def test_a_killed_amlrun_leaves_no_running_docker_container(docker_host: str, tmp_path: Path):
    import docker

    from tests.fixtures.docker_engine import TEST_IMAGE

    ws = tmp_path / "ws"
    config = f"backends:\n  docker: {{host: '{docker_host}', default_image: '{TEST_IMAGE}'}}\n"
    step = f"sleeper{os.getpid()}x{time.time_ns()}"  # labels its container, on any version
    pipeline = SPAWN_PIPELINE.replace("spawn.yml", "sleeper.yml").replace("spawn:", f"{step}:")
    _write(ws, {"sleeper.yml": SLEEPER, "pipeline.yml": pipeline, ".amlrun/config.yaml": config})
    client = docker.DockerClient(base_url=docker_host)
    proc = _start("run", str(ws / "pipeline.yml"), "--backend", "docker", cwd=ws)
    mine = {"label": f"amlrun.step={step}"}
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not client.containers.list(filters=mine):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        assert client.containers.list(filters=mine), "the step's container never started"
        proc.kill()
        proc.communicate()
        deadline = time.time() + 20
        while time.time() < deadline and client.containers.list(all=True, filters=mine):
            time.sleep(0.1)
        assert client.containers.list(all=True, filters=mine) == []
    finally:
        for container in client.containers.list(all=True, filters=mine):
            container.remove(force=True)
        client.close()


@pytest.mark.slow
def test_a_docker_run_removes_containers_a_dead_amlrun_left_but_not_a_live_ones(
    docker_host: str, tmp_path: Path
):
    import docker

    from tests.fixtures.docker_engine import TEST_IMAGE

    ws = tmp_path / "ws"
    config = f"backends:\n  docker: {{host: '{docker_host}', default_image: '{TEST_IMAGE}'}}\n"
    sleeper = SLEEPER.replace("sleep 300", "echo done")
    pipeline = SPAWN_PIPELINE.replace("spawn.yml", "sleeper.yml")
    _write(ws, {"sleeper.yml": sleeper, "pipeline.yml": pipeline, ".amlrun/config.yaml": config})
    client = docker.DockerClient(base_url=docker_host)
    host, dead = os.uname().nodename, _dead_pid()
    # owner label -> whether its container must survive the run
    owners = {f"{host}:{dead}": False, f"{host}:{os.getpid()}": True, f"elsewhere:{dead}": True}
    left = {
        owner: client.containers.create(TEST_IMAGE, ["true"], labels={"amlrun.owner": owner})
        for owner in owners
    }
    try:
        result = run_json(str(ws / "pipeline.yml"), "--backend", "docker", cwd=ws)
        assert statuses(result) == {"spawn": "ran"}
        ids = {c.id for c in client.containers.list(all=True)}
        assert {owner: c.id in ids for owner, c in left.items()} == owners
    finally:
        for c in left.values():
            with contextlib.suppress(docker.errors.NotFound):
                c.remove(force=True)
        client.close()


@pytest.mark.slow
def test_a_killed_amlrun_stops_its_step_on_a_dask_worker(dask_scheduler: str, tmp_path: Path):
    ws, pid_file = tmp_path / "ws", tmp_path / "pid"
    sleeper = "import os, sys, time\nopen(sys.argv[1], 'w').write(str(os.getpid()))\n"
    sleeper += "time.sleep(300)\n"
    _write(ws, {"spawn.yml": SPAWN_COMPONENT.format(pids=pid_file), "src/spawn.py": sleeper})
    config = f"backends:\n  dask: {{scheduler: '{dask_scheduler}'}}\n"
    _write(ws, {"pipeline.yml": SPAWN_PIPELINE, ".amlrun/config.yaml": config})
    proc = _start("run", str(ws / "pipeline.yml"), "--backend", "dask", cwd=ws)
    deadline = time.time() + 60
    while time.time() < deadline and not pid_file.exists():
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    time.sleep(0.2)
    step = int(pid_file.read_text())
    try:
        proc.kill()
        proc.communicate()
        deadline = time.time() + 20
        while time.time() < deadline and _alive(step):
            time.sleep(0.1)
        assert not _alive(step)
    finally:
        if _alive(step):
            os.kill(step, signal.SIGKILL)
