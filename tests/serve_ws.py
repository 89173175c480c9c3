"""A real ``amlrun serve`` on 127.0.0.1 for the server tests, and a pipeline whose step takes
as long as its ``seconds`` parameter says (printing a line per tick) to watch it run."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import amlrun, write_workspace

SLOW_FILES = {
    "tick/tick.yml": """
        type: command
        name: tick
        inputs:
          seconds: {type: number, default: 0}
          word: {type: string, default: hi}
        outputs:
          out: {type: uri_folder}
        code: ./src
        command: python tick.py ${{inputs.seconds}} ${{inputs.word}} ${{outputs.out}}
    """,
    "tick/src/tick.py": """
        import pathlib, sys, time
        seconds, word, out = float(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])
        end = time.time() + seconds
        n = 0
        while True:
            print(f"tick {n}", flush=True)
            n += 1
            if time.time() >= end:
                break
            time.sleep(0.1)
        out.joinpath("word.txt").write_text(word)
    """,
    "slow.yml": """
        type: pipeline
        inputs:
          seconds: 0
          word: hi
        outputs:
          result: {type: uri_folder}
        jobs:
          tick:
            component: ./tick/tick.yml
            inputs:
              seconds: ${{parent.inputs.seconds}}
              word: ${{parent.inputs.word}}
            outputs:
              out: ${{parent.outputs.result}}
          after:
            component: ./tick/tick.yml
            inputs:
              word: ${{parent.inputs.word}}
    """,
}


def make_slow_workspace(root: Path) -> None:
    write_workspace(root, SLOW_FILES)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``amlrun serve`` in a subprocess; its output goes to ``log``."""

    def __init__(self, root: Path, *args: str) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = root.parent / f"serve-{self.port}.log"
        cli = [sys.executable, "-c", "from amlrun.cli.main import main; main()"]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [*cli, "serve", "--port", str(self.port), *args],
                cwd=root,
                env={**os.environ, "AMLRUN_WORKSPACE": str(root)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"amlrun serve exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/login", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"amlrun serve did not answer:\n{self.log.read_text()}")

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def stop(self, kill: bool = False) -> None:
        """Ctrl-C (or, with ``kill``, SIGKILL: a crash), and wait for the process."""
        if self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.send_signal(2)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def token(root: Path, name: str, scope: str) -> str:
    proc = amlrun("token", "create", name, "--scope", scope, cwd=root, check=True)
    return proc.stdout.strip()


def wait_run(client: httpx.Client, run_id: str, timeout: float = 120) -> dict[str, Any]:
    """The run once it has ended (fails the test after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/runs/{run_id}").json()
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not end: {run}")


def wait_step(client: httpx.Client, run_id: str, step: str, status: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/runs/{run_id}").json()
        if any(s["name"] == step and s["status"] == status for s in run["steps"]):
            return run
        time.sleep(0.1)
    raise AssertionError(f"step {step} of run {run_id} never got {status}: {run}")
