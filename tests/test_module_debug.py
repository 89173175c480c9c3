"""``amlrun module debug RUN STEP``: a recorded step's working folder, recreated to rerun."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import amlrun, run_json
from tests.pipeline_ws import make_workspace

FAILING_TRAIN = "import sys\nprint('boom: epochs', sys.argv[4], file=sys.stderr)\nsys.exit(3)\n"


def test_debug_recreates_the_step_folder_and_prints_what_the_command_sees(tmp_path):
    pipe = make_workspace(tmp_path)
    rid = run_json(str(pipe), cwd=tmp_path)["run_id"]
    proc = amlrun("module", "debug", rid, "train", "-o", "dbg", cwd=tmp_path, check=True)
    dbg = tmp_path / "dbg"
    assert (dbg / "code/train.py").read_text() == (tmp_path / "train/src/train.py").read_text()
    assert list((dbg / "outputs/model").iterdir()) == []
    assert "input  data: " in proc.stdout and "python train.py --data" in proc.stdout
    assert (dbg / "run.sh").stat().st_mode & 0o100
    assert "exec " in (dbg / "run.sh").read_text()


def test_debug_run_reproduces_the_steps_output_in_the_folder(tmp_path):
    pipe = make_workspace(tmp_path)
    rid = run_json(str(pipe), cwd=tmp_path)["run_id"]
    amlrun("module", "debug", rid, "train", "--run", "-o", "dbg", cwd=tmp_path, check=True)
    assert (tmp_path / "dbg/outputs/model/model.txt").read_text() == "sum=12\n"


def test_debug_run_of_a_failed_step_reproduces_its_error(tmp_path):
    pipe = make_workspace(tmp_path)
    (tmp_path / "train/src/train.py").write_text(FAILING_TRAIN)
    result = run_json(str(pipe), cwd=tmp_path)
    assert {s["name"]: s["status"] for s in result["steps"]}["train"] == "failed"
    proc = amlrun("module", "debug", result["run_id"], "train", "--run", cwd=tmp_path)
    assert proc.returncode == 3
    assert "boom: epochs 1" in proc.stderr


def test_debugging_the_last_run_again_makes_a_new_folder_and_keeps_the_edited_one(tmp_path):
    pipe = make_workspace(tmp_path)
    (tmp_path / "train/src/train.py").write_text(FAILING_TRAIN)
    run_json(str(pipe), cwd=tmp_path)
    amlrun("module", "debug", "last", "train", cwd=tmp_path, check=True)
    (first,) = (tmp_path / ".amlrun/debug").iterdir()
    (first / "code/train.py").write_text("print('my attempt at a fix')\n")
    proc = amlrun("module", "debug", "last", "train", "--run", cwd=tmp_path)
    assert proc.returncode == 3 and "boom: epochs 1" in proc.stderr
    assert (first / "code/train.py").read_text() == "print('my attempt at a fix')\n"
    assert sorted(p.name for p in (tmp_path / ".amlrun/debug").iterdir()) == [
        first.name,
        f"{first.name}-2",
    ]


def test_debug_refuses_a_step_whose_code_changed_since_the_run(tmp_path):
    pipe = make_workspace(tmp_path)
    rid = run_json(str(pipe), cwd=tmp_path)["run_id"]
    (tmp_path / "train/src/train.py").write_text(FAILING_TRAIN)
    proc = amlrun("module", "debug", rid, "train", "-o", "dbg", cwd=tmp_path)
    assert proc.returncode == 2 and "no longer what run" in proc.stderr
    assert "train.py" in proc.stderr and not (tmp_path / "dbg").exists()


def test_debug_names_the_recorded_steps_when_the_step_is_unknown(tmp_path):
    pipe = make_workspace(tmp_path)
    rid = run_json(str(pipe), cwd=tmp_path)["run_id"]
    proc = amlrun("module", "debug", rid, "nope", cwd=tmp_path)
    assert proc.returncode == 2 and "use one of: " in proc.stderr and "train" in proc.stderr
    proc = amlrun("module", "debug", "no-such-run", "train", cwd=tmp_path)
    assert proc.returncode == 2 and "no run 'no-such-run'" in proc.stderr


def test_debug_pdb_runs_the_entry_script_under_the_debugger(tmp_path):
    pipe = make_workspace(tmp_path)
    (tmp_path / "train/src/train.py").write_text(FAILING_TRAIN)
    rid = run_json(str(pipe), cwd=tmp_path)["run_id"]
    cli = [sys.executable, "-c", "from amlrun.cli.main import main; main()"]
    proc = subprocess.run(
        [*cli, "module", "debug", rid, "train", "--pdb", "-o", "dbg"],
        cwd=tmp_path,
        env={**os.environ, "AMLRUN_WORKSPACE": str(tmp_path)},
        input="c\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "dbg/code/train.py(1)<module>()" in proc.stdout and "(Pdb)" in proc.stdout
    assert "boom: epochs 1" in proc.stdout + proc.stderr


def test_debug_shell_opens_in_the_steps_working_folder(tmp_path):
    pipe = make_workspace(tmp_path)
    rid = run_json(str(pipe), cwd=tmp_path)["run_id"]
    cli = [sys.executable, "-c", "from amlrun.cli.main import main; main()"]
    proc = subprocess.run(
        [*cli, "module", "debug", rid, "train", "--shell", "-o", "dbg"],
        cwd=tmp_path,
        env={**os.environ, "AMLRUN_WORKSPACE": str(tmp_path), "SHELL": "/bin/sh"},
        input="pwd; ls\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"{tmp_path}/dbg/code\ntrain.py" in proc.stdout


def test_debug_of_a_step_removed_from_the_pipeline_says_so(tmp_path):
    pipe = make_workspace(tmp_path)
    rid = run_json(str(pipe), cwd=tmp_path)["run_id"]
    text = pipe.read_text()
    pipe.write_text(text[: text.index("  side:")])
    proc = amlrun("module", "debug", rid, "side", cwd=tmp_path)
    assert proc.returncode == 2 and "has no step 'side' any more" in proc.stderr
