"""The guides run as written: their files are written, their commands run in order with
the exit status they show (``# exit N``, else 0), and the output lines they show must
appear (``...`` matches anything)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).parent.parent / "docs"
EXIT = re.compile(r"\s+# exit (\d+)$")
FILE = re.compile(r"<!-- file: (\S+) -->\n```\w*\n(.*?)```", re.S)
CONSOLE = re.compile(r"```console\n(.*?)```", re.S)


def commands(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for every ``$ ...`` line of the console blocks."""
    out: list[tuple[str, list[str]]] = []
    for block in CONSOLE.findall(text):
        for line in block.splitlines():
            if line.startswith("$ "):
                out.append((line[2:], []))
            elif line.strip():
                out[-1][1].append(line)
    return out


def _pattern(expected: str) -> re.Pattern:
    return re.compile(".*".join(re.escape(part) for part in expected.split("...")))


@pytest.mark.parametrize(
    "guide",
    [
        "getting-started.md",
        "writing-pipelines.md",
        "stores-and-ci.md",
        "troubleshooting.md",
        "schedules.md",
    ],
)
def test_the_guide_runs_as_written(guide, tmp_path):
    text = (DOCS / guide).read_text()
    tmp_path = tmp_path / "project"  # the guides may use a folder next to it (../team-store)
    (tmp_path / ".git").mkdir(parents=True)  # a project of its own, as a clone is
    for rel, body in FILE.findall(text):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(body)
    env = {k: v for k, v in os.environ.items() if k != "AMLRUN_WORKSPACE"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    steps = commands(text)
    assert len(steps) >= 5
    for shown_command, expected in steps:
        status = EXIT.search(shown_command)
        command = EXIT.sub("", shown_command)
        proc = subprocess.run(
            command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True
        )
        shown = (proc.stdout + proc.stderr).splitlines()
        assert proc.returncode == int(status.group(1) if status else 0), (command, shown)
        for line in expected:
            assert any(_pattern(line).fullmatch(s.rstrip()) for s in shown), (command, line, shown)
