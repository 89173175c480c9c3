"""The guides run as written: their files are written, their commands run in order with
the exit status they show (``# exit N``, else 0), and the output lines they show must
appear (``...`` matches anything).

Every page of docs/ that shows a ``console`` block is run, so a new page cannot be left
out. ``sh`` blocks only start servers or install into the environment (a Docker engine, a
Dask cluster, ``pip install`` of the example plugin): a page that needs a server says so with
``<!-- needs: docker -->`` or ``<!-- needs: dask -->`` and its commands then see
``DOCKER_HOST`` / ``AMLRUN_DASK_SCHEDULER`` of the test's own real server; the plugin install
is tests/test_backends.py's.
"""

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
NEEDS = re.compile(r"<!-- needs: (\w+) -->")
SERVERS = {
    "docker": ("docker_host", "DOCKER_HOST"),
    "dask": ("dask_scheduler", "AMLRUN_DASK_SCHEDULER"),
}
GUIDES = sorted(p.name for p in DOCS.glob("*.md") if CONSOLE.search(p.read_text()))


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


def test_every_guide_page_with_commands_is_run():
    for page in [
        "getting-started.md",
        "writing-pipelines.md",
        "registry.md",
        "authoring.md",
        "parallel.md",
        "schedules.md",
        "datatypes.md",
        "metrics.md",
        "sweeps.md",
        "serve.md",
    ]:
        assert page in GUIDES, page


@pytest.mark.parametrize("guide", GUIDES)
def test_the_guide_runs_as_written(guide, tmp_path, request):
    text = (DOCS / guide).read_text()
    tmp_path = tmp_path / "project"  # the guides may use a folder next to it (../team-store)
    (tmp_path / ".git").mkdir(parents=True)  # a project of its own, as a clone is
    for rel, body in FILE.findall(text):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(body)
    env = {k: v for k, v in os.environ.items() if k != "AMLRUN_WORKSPACE"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for server in NEEDS.findall(text):
        fixture, variable = SERVERS[server]
        env[variable] = request.getfixturevalue(fixture)
    steps = commands(text)
    assert steps, "a guide page with a console block shows at least one command"
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
