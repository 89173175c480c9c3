"""``amlrun module init`` and ``amlrun module build``: a user starts and writes a module."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from amlrun.engine.keys import KeyCalculator
from amlrun.errors import Diagnostics
from amlrun.hashing import StatCache, hash_json
from amlrun.snapshot.environment import environment_spec_identity
from amlrun.spec.load import load_module
from tests.helpers import amlrun, run_json, statuses


@pytest.mark.parametrize("fmt", ["v2", "v1", "python"])
def test_an_initialized_module_validates_and_passes_its_own_test(tmp_path, fmt):
    amlrun("module", "init", "count_words", "--format", fmt, "-o", "proj", cwd=tmp_path, check=True)
    proj = tmp_path / "proj"
    valid = amlrun("module", "validate", "proj", cwd=tmp_path)
    assert valid.returncode == 0 and "1 ok, 0 with warnings, 0 errors" in valid.stdout
    test = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(proj)],
        cwd=proj,
        capture_output=True,
        text=True,
    )
    assert test.returncode == 0 and "1 passed" in test.stdout, test.stdout + test.stderr


@pytest.mark.parametrize("fmt", ["v2", "v1", "python"])
def test_the_initialized_notebook_runs_the_module(tmp_path, fmt):
    amlrun("module", "init", "nb", "--format", fmt, cwd=tmp_path, check=True)
    nb = json.loads((tmp_path / "nb/nb.ipynb").read_text())
    assert nb["nbformat"] == 4
    code = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path / "nb",
        env={"AMLRUN_WORKSPACE": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True {'lines': 2}"


def test_init_refuses_a_folder_that_holds_files(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine/notes.txt").write_text("keep me")
    proc = amlrun("module", "init", "m", "-o", "mine", cwd=tmp_path)
    assert proc.returncode == 2 and "not an empty folder" in proc.stderr
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_init_refuses_a_name_that_is_not_an_identifier(tmp_path):
    proc = amlrun("module", "init", "My Module", cwd=tmp_path)
    assert proc.returncode == 2 and "lowercase identifier" in proc.stderr
    assert "Traceback" not in proc.stderr


FUNCS = (
    "from pathlib import Path\nimport amlrun\n\n"
    "@amlrun.module(name='double', version='2')\n"
    "def double(data: amlrun.Input(type='uri_file'), out: amlrun.Output(), factor: int = 2):\n"
    "    Path(out, 'n.txt').write_text(str(int(Path(data).read_text()) * factor))\n\n"
    "@amlrun.module(name='halve')\n"
    "def halve(data: amlrun.Input(type='uri_file'), out: amlrun.Output()):\n"
    "    Path(out, 'n.txt').write_text(str(int(Path(data).read_text()) // 2))\n"
)


def _key(module) -> tuple[str, str, str]:
    """The module-dependent parts of a step key, as KeyCalculator computes them."""
    keys = KeyCalculator(StatCache(None))
    return (
        module.identity_hash,
        keys.snapshot(module.code).tree_hash,
        hash_json(environment_spec_identity(module.environment)),
    )


def test_a_built_spec_elsewhere_has_the_same_key_as_its_function(tmp_path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "fns.py").write_text(FUNCS)
    (tmp_path / "specs").mkdir()
    amlrun(
        "module",
        "build",
        "code/fns.py",
        "--function",
        "double",
        "-o",
        "specs/double.yml",
        cwd=tmp_path,
        check=True,
    )
    from amlrun.cli.module_build import decorated_modules

    fn = decorated_modules((code / "fns.py").resolve())["double"]
    spec = load_module(tmp_path / "specs/double.yml", Diagnostics())
    assert spec.code.root == fn.code.root
    assert _key(spec) == _key(fn)
    (tmp_path / "n.txt").write_text("21")
    amlrun(
        "module",
        "run",
        "specs/double.yml",
        "-i",
        "data=n.txt",
        "-o",
        "out=o",
        cwd=tmp_path,
        check=True,
    )
    assert (tmp_path / "o/n.txt").read_text() == "42"


def test_build_writes_one_spec_per_decorated_function(tmp_path):
    (tmp_path / "fns.py").write_text(FUNCS)
    proc = amlrun("module", "build", "fns.py", cwd=tmp_path, check=True)
    assert proc.stdout.count("wrote ") == 2
    assert load_module(tmp_path / "halve.yml", Diagnostics()).name == "halve"
    assert load_module(tmp_path / "double.yml", Diagnostics()).parameter("factor").default == 2


def test_build_names_the_functions_when_the_chosen_one_is_missing(tmp_path):
    (tmp_path / "fns.py").write_text(FUNCS)
    proc = amlrun("module", "build", "fns.py", "--function", "triple", cwd=tmp_path)
    assert proc.returncode == 2 and "use one of: double, halve" in proc.stderr


def test_build_of_a_file_that_fails_to_import_is_a_clear_error(tmp_path):
    (tmp_path / "bad.py").write_text("import no_such_module_here\n")
    proc = amlrun("module", "build", "bad.py", cwd=tmp_path)
    assert proc.returncode == 2 and "importing bad.py failed: ModuleNotFoundError" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_build_never_replaces_a_spec_the_user_wrote(tmp_path):
    (tmp_path / "fns.py").write_text(FUNCS)
    (tmp_path / "halve.yml").write_text("type: command  # mine\n")
    proc = amlrun("module", "build", "fns.py", cwd=tmp_path)
    assert proc.returncode == 2 and "was not written by amlrun module build" in proc.stderr
    assert (tmp_path / "halve.yml").read_text() == "type: command  # mine\n"
    assert not (tmp_path / "double.yml").exists()  # checked before anything is written
    (tmp_path / "halve.yml").unlink()
    amlrun("module", "build", "fns.py", cwd=tmp_path, check=True)
    again = amlrun("module", "build", "fns.py", cwd=tmp_path)  # its own output: rebuilt
    assert again.returncode == 0, again.stderr


def test_a_pipeline_of_the_built_spec_reuses_the_functions_step(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "n.txt").write_text("21")
    (tmp_path / "code/fns.py").write_text(
        FUNCS
        + "\n@amlrun.pipeline\n"
        + f"def p(data: amlrun.Input = {str(tmp_path / 'n.txt')!r}):\n"
        + "    double(data=data, factor=3)\n"
    )
    amlrun("module", "build", "code/fns.py", "-f", "double", "-o", "double.yml", cwd=tmp_path)
    (tmp_path / "pipe.yml").write_text(
        "type: pipeline\njobs:\n  double:\n    type: command\n    component: ./double.yml\n"
        f"    inputs:\n      data: {{type: uri_file, path: {tmp_path / 'n.txt'}}}\n"
        "      factor: 3\n"
    )
    assert statuses(run_json("pipe.yml", cwd=tmp_path)) == {"double": "ran"}
    assert statuses(run_json("code/fns.py", cwd=tmp_path)) == {"double": "reused"}
