"""docs/getting-started.md runs as written: its files are written, its commands run in
order, and the output lines it shows must appear (``...`` matches anything)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

GUIDE = Path(__file__).parent.parent / "docs" / "getting-started.md"
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


def test_the_getting_started_guide_runs_as_written(tmp_path):
    text = GUIDE.read_text()
    for rel, body in FILE.findall(text):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(body)
    env = {k: v for k, v in os.environ.items() if k != "AMLRUN_WORKSPACE"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    steps = commands(text)
    assert len(steps) >= 10
    for command, expected in steps:
        proc = subprocess.run(
            command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True
        )
        shown = (proc.stdout + proc.stderr).splitlines()
        assert proc.returncode == 0, (command, proc.stdout, proc.stderr)
        for line in expected:
            assert any(_pattern(line).fullmatch(s.rstrip()) for s in shown), (command, line, shown)
