"""Cached per-environment virtualenvs through the CLI: built in place (their own ``pip`` and
``activate`` work), rebuilt when half-built or broken, and seeing both the environment's pip
packages and the packages amlrun itself runs with (``import amlrun`` from a venv)."""

from __future__ import annotations

import textwrap
import zipfile
from pathlib import Path

import amlrun
from tests.helpers import run_json, statuses

CHECK = """
    import subprocess, sys, amlrun, tinypkg
    pip = subprocess.run(["pip", "--version"], capture_output=True, text=True)
    act = subprocess.run(["sh", "-c", ". activate && echo $VIRTUAL_ENV"],
                         capture_output=True, text=True)
    open(sys.argv[1], "w").write("\\n".join(
        [tinypkg.WORD, amlrun.__file__, str(pip.returncode), pip.stderr, act.stdout.strip()]))
"""
ENVIRONMENT = """
    name: tiny
    dependencies:
      - python=3.11
      - pip:
        - {wheel}
"""
COMPONENT = """
    type: command
    name: check
    outputs:
      o: {type: uri_file}
    code: ./src
    environment:
      conda_file: ./env.yml
    command: python check.py ${{outputs.o}}
"""
PIPELINE = """
    type: pipeline
    outputs:
      o: {type: uri_file}
    jobs:
      check:
        component: ./check/check.yml
        outputs: {o: "${{parent.outputs.o}}"}
"""


def _wheel(folder: Path) -> Path:
    """A pure-python wheel built by hand, so installing it needs no index and no network."""
    path = folder / "tinypkg-0.1-py3-none-any.whl"
    files = {
        "tinypkg/__init__.py": 'WORD = "tiny"\n',
        "tinypkg-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinypkg\nVersion: 0.1\n",
        "tinypkg-0.1.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{name},,\n" for name in files) + "tinypkg-0.1.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in {**files, "tinypkg-0.1.dist-info/RECORD": record}.items():
            z.writestr(name, text)
    return path


def _workspace(ws: Path) -> Path:
    files = {
        "check/env.yml": ENVIRONMENT.format(wheel=_wheel(ws.parent)),
        "check/check.yml": COMPONENT,
        "check/src/check.py": CHECK,
        "pipeline.yml": PIPELINE,
    }
    for rel, text in files.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(textwrap.dedent(text).lstrip())
    (ws / ".git").mkdir()
    return ws / "pipeline.yml"


def _check(pipeline: Path, out: Path, env: dict[str, str], *args: str) -> list[str]:
    result = run_json(str(pipeline), "--output", f"o={out}", *args, cwd=pipeline.parent, env=env)
    assert statuses(result) == {"check": "ran"}, result
    return out.read_text().split("\n")


def test_a_pip_environment_sees_its_package_amlrun_and_its_own_working_pip(tmp_path: Path):
    env = {"AMLRUN_CACHE_DIR": str(tmp_path / "cache")}
    pipeline = _workspace(tmp_path / "ws")

    word, amlrun_file, pip_code, pip_err, virtual_env = _check(pipeline, tmp_path / "o", env)

    assert word == "tiny"  # the environment's own package
    assert amlrun_file == amlrun.__file__  # the amlrun this interpreter runs, not the base's
    assert (pip_code, pip_err) == ("0", "")  # its pip's shebang names the venv where it is
    [venv] = (tmp_path / "cache" / "amlrun" / "venvs").iterdir()
    assert virtual_env == str(venv)  # and so does its activate script


def test_a_half_built_or_broken_venv_is_rebuilt(tmp_path: Path):
    env = {"AMLRUN_CACHE_DIR": str(tmp_path / "cache")}
    pipeline = _workspace(tmp_path / "ws")
    _check(pipeline, tmp_path / "o", env)
    [venv] = (tmp_path / "cache" / "amlrun" / "venvs").iterdir()

    (venv / ".amlrun-ready").unlink()  # killed before the build finished
    (venv / "lib").rename(tmp_path / "lost-lib")
    assert _check(pipeline, tmp_path / "o", env, "--force", "check")[0] == "tiny"

    (venv / "bin" / "python").unlink()  # its interpreter is gone
    assert _check(pipeline, tmp_path / "o", env, "--force", "check")[0] == "tiny"
    assert (venv / ".amlrun-ready").is_file()
