"""Failures are told truthfully: the failing step and its reason, a finished run record.

No Python or doit traceback reaches the terminal; the JSON ``reason`` says what happened;
``runs list`` never keeps a record ``running`` once its run is over or its process is dead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace
from tests.test_backends import _with_echo_plugin

UNREACHABLE = "https://127.0.0.1:9/nothing/"


def _continue_on_failure(pipeline: Path) -> None:
    text = pipeline.read_text().replace(
        "default_compute: azureml:cpu-cluster",
        "default_compute: azureml:cpu-cluster\n  continue_on_step_failure: true",
    )
    pipeline.write_text(text)


def _run_statuses(ws: Path) -> list[str]:
    proc = amlrun("runs", "list", cwd=ws, check=True)
    return [line.split()[3] for line in proc.stdout.splitlines() if line.strip()]


def test_an_unreachable_https_input_fails_its_step_and_the_other_branch_still_runs(tmp_path):
    pipeline = make_workspace(tmp_path)
    _continue_on_failure(pipeline)
    pipeline.write_text(pipeline.read_text().replace("path: ./data", f"path: '{UNREACHABLE}'"))

    proc = amlrun("run", str(pipeline), "--json", cwd=tmp_path)
    result = run_json(str(pipeline), cwd=tmp_path)

    assert "Traceback" not in proc.stderr + proc.stdout and proc.returncode == 1
    reasons = {s["name"]: s["reason"] for s in result["steps"]}
    assert statuses(result) == {
        "prep": "failed",
        "train": "skipped",
        "report": "skipped",
        "side": "reused",  # ran in the first run: continue_on_step_failure is true
    }
    assert UNREACHABLE in reasons["prep"] and "Connect call failed" in reasons["prep"]
    assert reasons["train"] == "upstream prep did not succeed"
    assert "continue_on_step_failure is false" not in proc.stdout
    log = Path(reasons["prep"].rpartition("traceback in ")[2])
    assert "Traceback" in log.read_text()  # the full story is kept for a bug report
    assert _run_statuses(tmp_path) == ["failed", "failed"]


def test_a_stop_after_a_failure_names_the_failed_step_and_the_setting(tmp_path):
    pipeline = make_workspace(tmp_path)
    (tmp_path / "prep/src/prep.py").write_text("raise SystemExit(3)\n")

    result = run_json(str(pipeline), cwd=tmp_path)

    st = statuses(result)
    reasons = {s["name"]: s["reason"] for s in result["steps"]}
    assert st["prep"] == "failed" and reasons["prep"].startswith("exit code 3")
    for name in ("train", "report"):
        assert st[name] == "skipped"
    if st["side"] == "cancelled":  # doit may have started it before prep failed
        assert reasons["side"] == (
            "stopped after step prep failed (continue_on_step_failure is false)"
        )


@pytest.mark.parametrize("dry_run", [(), ("--dry-run",)], ids=["run", "dry-run"])
def test_an_unknown_output_is_exit_2_before_anything_runs(tmp_path, dry_run):
    pipeline = make_workspace(tmp_path)

    proc = amlrun("run", str(pipeline), *dry_run, "--output", "bogus=./x", cwd=tmp_path)

    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert (
        "the pipeline has no output 'bogus'" in proc.stderr and "use one of: final" in proc.stderr
    )
    assert not (tmp_path / ".amlrun/cache/steps").exists()  # nothing ran
    assert "running" not in amlrun("runs", "list", cwd=tmp_path).stdout


def test_an_output_under_a_file_is_refused_before_any_step_runs(tmp_path):
    pipeline = make_workspace(tmp_path)
    (tmp_path / "afile").write_text("a file, not a folder\n")

    proc = amlrun("run", str(pipeline), "--output", "final=./afile/sub", cwd=tmp_path)

    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "could not be written to" in proc.stderr and "is not a folder" in proc.stderr
    assert not (tmp_path / ".amlrun/cache/steps").exists()  # nothing ran
    assert "running" not in amlrun("runs", "list", cwd=tmp_path).stdout


def test_an_error_after_steps_ran_finishes_the_run_record_as_failed(tmp_path):
    pipeline = make_workspace(tmp_path)
    side = tmp_path / "side/src/side.py"  # the side step turns the destination's parent into a file
    side.write_text(
        side.read_text()
        + "\nimport os, pathlib\n"
        + "pathlib.Path(os.environ['AMLRUN_WORKSPACE'], 'afile').write_text('a file')\n"
    )

    proc = amlrun("run", str(pipeline), "--output", "final=./afile/sub", cwd=tmp_path)

    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "could not be written to" in proc.stderr
    assert len(list((tmp_path / ".amlrun/cache/steps").glob("*.json"))) == 4  # steps ran
    assert _run_statuses(tmp_path) == ["failed"]


def test_a_backend_exception_fails_the_step_with_its_reason_and_no_traceback(tmp_path):
    pipeline = make_workspace(tmp_path)
    _continue_on_failure(pipeline)
    (tmp_path / "a-folder").mkdir()  # the echo backend cannot append its record to a folder
    (tmp_path / "pyproject.toml").write_text('[tool.amlrun.backends.echo]\nrecord = "a-folder"\n')
    env = _with_echo_plugin(tmp_path / "site")

    proc = amlrun("run", str(pipeline), "--backend", "echo", "--json", cwd=tmp_path, env=env)

    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    result = run_json(str(pipeline), "--backend", "echo", cwd=tmp_path, env=env)
    reason = {s["name"]: s["reason"] for s in result["steps"]}["prep"]
    assert reason.startswith("backend error: IsADirectoryError:") and "a-folder" in reason
    assert set(statuses(result).values()) == {"failed", "skipped"}


def test_an_error_of_doits_own_fails_the_steps_with_doits_reason(tmp_path, monkeypatch):
    """No input makes doit fail by itself (its dep file is in memory), so doit is made to."""
    from doit.cmd_run import Run
    from doit.exceptions import InvalidDodoFile

    import amlrun as api

    pipeline = make_workspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AMLRUN_WORKSPACE", str(tmp_path))

    def broken(self, *args, **kwargs):
        raise InvalidDodoFile("doit could not go on")

    monkeypatch.setattr(Run, "execute", broken)
    result = api.run(api.load_pipeline(pipeline), quiet=True)

    assert {s.name: s.status for s in result.steps} == {
        "prep": "failed",
        "train": "skipped",
        "report": "skipped",
        "side": "failed",
    }
    for step in result.steps:
        if step.status == "failed":
            assert step.reason == "the engine (doit) failed: InvalidDodoFile: doit could not go on"
    assert _run_statuses(tmp_path) == ["failed"]


def test_a_run_whose_process_was_killed_is_marked_interrupted_by_the_next_run(tmp_path):
    pipeline = make_workspace(tmp_path)
    marker = tmp_path / "prep-started"
    src = tmp_path / "prep/src/prep.py"
    original = src.read_text()
    src.write_text(f"import pathlib, time\npathlib.Path({str(marker)!r}).touch()\ntime.sleep(60)\n")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from amlrun.cli.main import main; main()", "run", str(pipeline)],
        cwd=tmp_path,
        env={**os.environ, "AMLRUN_WORKSPACE": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the step never started"
        assert _run_statuses(tmp_path) == ["running"]
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    assert _run_statuses(tmp_path) == ["running"]  # nobody has looked yet
    src.write_text(original)
    run_json(str(pipeline), cwd=tmp_path)
    assert _run_statuses(tmp_path) == ["succeeded", "interrupted"]  # newest first


_BROKEN_BACKEND = """
from amlrun.backends.base import Availability, Backend
from amlrun.backends.hookspecs import hookimpl


class Broken(Backend):
    name = "broken"
    description = "raises where a backend says what it runs"

    def availability(self):
        return Availability(True, "")

    def environment_identity(self, env):
        raise RuntimeError("the broken backend cannot say")

    def execute(self, job, cancel=None):
        raise AssertionError("never reached")


@hookimpl
def amlrun_backends():
    return [Broken]
"""


def test_a_backend_raising_before_the_run_is_one_error_line_and_no_running_record(tmp_path):
    pipeline = make_workspace(tmp_path)
    site = tmp_path / "site"
    (site / "broken-0.dist-info").mkdir(parents=True)
    (site / "broken-0.dist-info/METADATA").write_text("Metadata-Version: 2.1\nName: broken\n")
    (site / "broken-0.dist-info/entry_points.txt").write_text("[amlrun]\nbroken = amlrun_broken\n")
    (site / "amlrun_broken.py").write_text(_BROKEN_BACKEND)
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}

    proc = amlrun("run", str(pipeline), "--backend", "broken", cwd=tmp_path, env=env)

    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "backend error: RuntimeError: the broken backend cannot say" in proc.stderr
    assert "running" not in amlrun("runs", "list", cwd=tmp_path).stdout
