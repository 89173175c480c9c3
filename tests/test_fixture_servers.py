"""The servers tests and benchmarks start never outlive what started them: a pytest or bench
killed mid-way (SIGKILL, no cleanup) leaves no server taking the CPU of the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.fixtures.processes import REPO

STARTER = """
import sys, time
sys.path.insert(0, sys.argv[1])
from tests.fixtures.processes import server_popen
server = server_popen([sys.executable, "-c", "import time; time.sleep(120)"])
print(server.pid, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie is gone
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux parent-death signal")
def test_a_server_dies_when_the_process_that_started_it_is_killed():
    starter = subprocess.Popen(
        [sys.executable, "-c", STARTER, str(REPO)], stdout=subprocess.PIPE, text=True
    )
    server = int(starter.stdout.readline())
    assert _alive(server)

    os.kill(starter.pid, signal.SIGKILL)
    starter.wait()

    deadline = time.monotonic() + 10
    while _alive(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(server), "the server outlived its starter"
