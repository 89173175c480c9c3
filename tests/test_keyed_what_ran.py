"""A result is stored only under the key of exactly what the step ran with: a code file edited
after its key was computed never runs (nor is staged) under that key, and a step whose local
input data changed while it ran stores nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amlrun.cache.local import LocalStore
from amlrun.engine.materialize import Staging
from amlrun.errors import AmlrunError
from amlrun.snapshot.tree import take_snapshot
from amlrun.spec.model import Code
from tests.helpers import amlrun, write_workspace

FILES = {
    "step/step.yml": """
        type: command
        name: touchy
        inputs:
          data: {type: uri_file}
        outputs:
          o: {type: uri_folder}
        code: ./src
        command: python touchy.py ${{inputs.data}} ${{outputs.o}}
    """,
    "step/src/touchy.py": """
        import pathlib, sys
        data = pathlib.Path(sys.argv[1])
        text = data.read_text()
        if "append" in text:  # a command that writes to its input
            data.write_text(text + "more\\n")
        pathlib.Path(sys.argv[2], "out.txt").write_text(text.upper())
    """,
    "data/a.txt": "keep\n",
    "pipeline.yml": """
        type: pipeline
        inputs:
          data: {type: uri_file, path: ./data/a.txt}
        jobs:
          touchy:
            component: ./step/step.yml
            inputs:
              data: ${{parent.inputs.data}}
    """,
}


def _run(ws: Path) -> dict:
    result = amlrun("run", str(ws / "pipeline.yml"), "--json", cwd=ws)
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("{")]
    assert lines, result.stderr
    return json.loads(lines[-1])["steps"][0]


def test_a_step_whose_input_changed_while_it_ran_fails_and_stores_nothing(tmp_path: Path):
    write_workspace(tmp_path, FILES)
    (tmp_path / "data/a.txt").write_text("append\n")

    step = _run(tmp_path)

    assert step["status"] == "failed"
    assert "changed while the step ran, so its result is not stored" in step["reason"]
    assert not list((tmp_path / ".amlrun/cache/steps").glob("*.json"))


def test_a_step_that_leaves_its_input_alone_is_stored_and_reused(tmp_path: Path):
    write_workspace(tmp_path, FILES)

    assert _run(tmp_path)["status"] == "ran"
    assert _run(tmp_path)["status"] == "reused"


def test_a_code_file_edited_after_hashing_is_never_staged_under_the_old_key(tmp_path: Path):
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('v1')\n")
    snapshot = take_snapshot(Code(code))
    (code / "train.py").write_text("print('v2')\n")  # saved while the run was starting
    staging = Staging(tmp_path / ".amlrun", LocalStore(tmp_path / "store"))

    with pytest.raises(AmlrunError, match="changed after the step's key was computed"):
        staging.snapshot(snapshot)

    assert not (tmp_path / ".amlrun" / "snapshots").exists() or not any(
        (tmp_path / ".amlrun" / "snapshots").iterdir()
    )
