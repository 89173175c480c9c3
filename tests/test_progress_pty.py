"""The live progress display as a user sees it: the CLI runs in a real terminal (a tmux
pane) and the tests read the screen while a slow step runs (issue 12, deliverable 6)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.talk_ws import make_talking_workspace

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


@contextmanager
def terminal(cwd: Path, *args: str) -> Iterator:
    """``amlrun ARGS`` in a 120x30 tmux pane; yields a function returning the screen."""
    sock = f"amlrun-test-{os.getpid()}-{time.monotonic_ns()}"
    env = {"AMLRUN_WORKSPACE": str(cwd), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    cmd = " ".join(
        [
            "env",
            *(f"{k}={shlex.quote(v)}" for k, v in env.items()),
            shlex.quote(sys.executable),
            "-c",
            shlex.quote("from amlrun.cli.main import main; main()"),
            *map(shlex.quote, args),
            "; echo AMLRUN-EXITED-$?; sleep 60",
        ]
    )
    tmux = ["tmux", "-L", sock]
    subprocess.run(
        [*tmux, "new-session", "-d", "-x", "120", "-y", "30", "-c", str(cwd), cmd], check=True
    )

    def screen() -> str:
        return subprocess.run(
            [*tmux, "capture-pane", "-p", "-t", "0"], capture_output=True, text=True
        ).stdout

    try:
        yield screen
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def wait_for(screen, pattern: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = screen()
        if re.search(pattern, shown, re.M):
            return shown
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} never appeared; the screen:\n{screen()}")


SLOW = ("--set", "lines=40", "--set", "delay=0.15")


def test_the_screen_shows_the_running_step_its_backend_time_last_lines_and_counts(tmp_path):
    spec = make_talking_workspace(tmp_path)
    with terminal(tmp_path, "run", str(spec), *SLOW) as screen:
        shown = wait_for(screen, r"^ +tick ([5-9]|[1-3]\d)$")  # a few lines in, not done
        assert re.search(r"^▶ talker  local  \d+\.\ds$", shown, re.M), shown
        ticks = re.findall(r"^ +tick (\d+)$", shown, re.M)
        assert 1 <= len(ticks) <= 3 and ticks == sorted(ticks, key=int), shown  # the tail
        counts = re.search(r"^\d/2 steps: (.*)$", shown, re.M)
        assert counts and "1 running" in counts.group(1) and "failed" in counts.group(1), shown
        first = float(re.search(r"talker  local  (\d+\.\d)s", shown).group(1))
        later = wait_for(screen, r"^ +tick (1[2-9]|[23]\d)$")
        assert float(re.search(r"talker  local  (\d+\.\d)s", later).group(1)) > first
        done = wait_for(screen, r"AMLRUN-EXITED-0")
    assert "▶" not in done  # the live view is gone; the summary stays
    assert re.search(r"^  talker +\d+\.\d\ds  ran  local$", done, re.M), done
    assert "output result: in the store" in done


def test_streamed_lines_carry_the_step_name_and_never_glue_to_the_display(tmp_path):
    spec = make_talking_workspace(tmp_path)
    with terminal(tmp_path, "run", str(spec), "--stream", *SLOW) as screen:
        shown = [wait_for(screen, r"^talker \| tick ([5-9]|[1-3]\d)$")]
        shown.append(wait_for(screen, r"^talker \| tick ([23]\d)$"))
        shown.append(wait_for(screen, r"AMLRUN-EXITED-0"))
    for text in shown:
        for line in text.splitlines():
            if "tick" in line and "|" in line:
                assert re.fullmatch(r"(talker|quiet ) \| tick \d+", line), (line, text)
            assert not ("steps:" in line and "tick" in line), (line, text)
    assert "quiet  | tick 0" in shown[-1]
