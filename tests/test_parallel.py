"""Parallel (mini-batch) steps: v2 ``type: parallel`` nodes run init()/run() per mini-batch,
and each mini-batch is reused on its own."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from tests.helpers import amlrun, run_json, statuses

SCORE = """
import argparse, os

def init():
    global SUFFIX
    parser = argparse.ArgumentParser()
    parser.add_argument("--suffix")
    args, _ = parser.parse_known_args()
    SUFFIX = args.suffix
    with open(os.environ["CALLS"], "a") as f:
        f.write("init\\n")

def run(mini_batch):
    with open(os.environ["CALLS"], "a") as f:
        f.write(f"run {len(mini_batch)}\\n")
    out = []
    for path in mini_batch:
        if "bad" in os.path.basename(path):
            raise ValueError(f"cannot score {path}")
        with open(path) as f:
            out.append(f"{os.path.basename(path)} {f.read().strip()}{SUFFIX}")
    return out
"""

PIPELINE = """
type: pipeline
jobs:
  score:
    type: parallel
    inputs:
      data: {type: uri_folder, path: ./data}
    outputs:
      out: {type: uri_file}
    input_data: ${{inputs.data}}
    mini_batch_size: "BATCH"
    max_concurrency_per_instance: 2
    mini_batch_error_threshold: 0
    retry_settings: {max_retries: 1, timeout: 30}
    environment_variables: {CALLS: CALLS_FILE}
    task:
      type: run_function
      code: ./src
      entry_script: score.py
      program_arguments: --suffix !
      append_row_to: ${{outputs.out}}
"""


def _write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def _workspace(root: Path, files: int, batch: int = 10) -> Path:
    for i in range(files):
        _write(root, f"data/f{i:04d}.txt", f"{i}\n")
    _write(root, "src/score.py", SCORE)
    text = PIPELINE.replace("BATCH", str(batch)).replace("CALLS_FILE", str(root / "calls.txt"))
    _write(root, "pipeline.yml", text)
    return root


def _ran(result: dict) -> int:
    """How many mini-batches the step's run() calls covered (from the calls log)."""
    return sum(1 for line in _calls(result) if line.startswith("run "))


def _calls(result: dict) -> list[str]:
    path = Path(result["_root"]) / "calls.txt"
    lines = path.read_text().splitlines() if path.exists() else []
    path.unlink(missing_ok=True)
    return lines


def _run(root: Path, *args: str) -> dict:
    result = run_json("pipeline.yml", "-o", "score.outputs.out=result.txt", *args, cwd=root)
    result["_root"] = str(root)
    return result


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    return _workspace(tmp_path, 100)


def test_every_file_is_scored_once_in_input_order(ws: Path) -> None:
    result = _run(ws)
    assert statuses(result) == {"score": "ran"}
    rows = (ws / "result.txt").read_text().splitlines()
    assert rows == [f"f{i:04d}.txt {i}!" for i in range(100)]
    calls = _calls(result)
    assert 1 <= calls.count("init") <= 8  # once per worker process, never per batch
    assert sum(int(c.split()[1]) for c in calls if c.startswith("run ")) == 100


def test_adding_one_file_reruns_one_mini_batch(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, 1000, batch=20)
    first = _run(ws)
    before = _ran(first)
    assert before >= 30
    _write(ws, "data/f0500a.txt", "new\n")
    again = _run(ws)
    assert statuses(again) == {"score": "ran"}
    assert _ran(again) == 1
    rows = (ws / "result.txt").read_text().splitlines()
    assert len(rows) == 1001 and rows[501] == "f0500a.txt new!"


def test_a_null_rerun_reuses_the_step_and_editing_the_script_reruns_every_batch(ws: Path) -> None:
    batches = _ran(_run(ws))
    assert statuses(_run(ws)) == {"score": "reused"}
    script = ws / "src" / "score.py"
    script.write_text(script.read_text() + "\n# edited\n")
    assert _ran(_run(ws)) == batches


def test_status_says_how_many_mini_batches_would_run(ws: Path) -> None:
    _run(ws)
    _write(ws, "data/f0050a.txt", "new\n")
    proc = amlrun("status", "pipeline.yml", cwd=ws)
    assert "1 of " in proc.stdout and "mini-batches would run" in proc.stdout, proc.stdout


def test_a_failed_mini_batch_fails_the_step_and_the_good_ones_are_kept(ws: Path) -> None:
    _write(ws, "data/f0042bad.txt", "x\n")
    failed = _run(ws)
    assert statuses(failed) == {"score": "failed"}
    assert "mini_batch_error_threshold" in failed["steps"][0]["reason"] + _log(failed)
    assert _ran(failed) > 2  # the bad batch was tried twice (max_retries 1), others ran
    (ws / "data" / "f0042bad.txt").unlink()
    again = _run(ws)
    assert statuses(again) == {"score": "ran"}
    assert _ran(again) == 1  # only the batch that held the bad file


def test_a_killed_worker_loses_only_its_own_batches(ws: Path) -> None:
    script = ws / "src" / "score.py"
    script.write_text(
        script.read_text()
        + "\n_run = run\n"
        + "def run(mini_batch):\n"
        + "    if os.environ.get('CRASH') and any('f0090' in p for p in mini_batch):\n"
        + "        os._exit(9)\n"
        + "    return _run(mini_batch)\n"
    )
    proc = amlrun("run", "pipeline.yml", "--json", cwd=ws, env={"CRASH": "1"})
    assert proc.returncode != 0
    (ws / "calls.txt").unlink()
    again = _run(ws)
    assert statuses(again) == {"score": "ran"}
    assert 1 <= _ran(again) < 5  # the crashed worker's chunk, not the finished ones


def _log(result: dict) -> str:
    log = result["steps"][0]["reason"].rsplit("log: ", 1)[-1]
    return Path(log).read_text() if Path(log).is_file() else ""


V1_MODULE = """
amlModuleIdentifier:
  namespace: microsoft.com/test
  moduleName: Parallel Copy
  moduleVersion: 0.0.1
jobType: parallel
inputs:
- name: Input folder
  type: AnyDirectory
  port: true
- name: Prefix
  type: String
  default: "x="
outputs:
- name: Output
  type: AnyDirectory
implementation:
  parallel:
    inputData: Input folder
    outputData: Output
    entry: copy_files.py
    args: [--prefix, {inputValue: Prefix}]
"""

COPY = """
import argparse

def init():
    global prefix
    parser = argparse.ArgumentParser()
    parser.add_argument("--prefix")
    prefix = parser.parse_known_args()[0].prefix

def run(mini_batch):
    return [prefix + open(path).read().strip() for path in mini_batch]
"""


def test_a_v1_parallel_module_runs_as_a_pipeline_step_with_the_node_batch_size(
    tmp_path: Path,
) -> None:
    for i in range(23):
        _write(tmp_path, f"data/x{i:02d}.txt", f"{i}\n")
    _write(tmp_path, "src/copy.yaml", V1_MODULE)
    _write(tmp_path, "src/copy_files.py", COPY)
    _write(
        tmp_path,
        "pipeline.yml",
        """
        type: pipeline
        jobs:
          copy:
            component: ./src/copy.yaml
            mini_batch_size: 1
            inputs:
              Input folder: {type: uri_folder, path: ./data}
              Prefix: "y="
        """,
    )
    result = run_json("pipeline.yml", "-o", "copy.outputs.Output=out", cwd=tmp_path)
    assert "23 mini-batches (0 reused, 23 ran)" in result["steps"][0]["reason"]
    rows = (tmp_path / "out" / "parallel_run_step.txt").read_text().splitlines()
    assert rows == [f"y={i}" for i in range(23)]


SLOW = """
import argparse, os, time

def init():
    global LABEL
    parser = argparse.ArgumentParser()
    parser.add_argument("--side")
    side = parser.parse_known_args()[0].side
    LABEL = open(os.path.join(side, "labels.txt")).read().strip()

def run(mini_batch):
    if any("slow" in p for p in mini_batch):
        time.sleep(30)
    return [os.path.basename(p) + " " + LABEL for p in mini_batch]
"""


def _small(root: Path, *, action: str = "append_row_to: ${{outputs.out}}") -> Path:
    for i in range(6):
        _write(root, f"data/f{i}.txt", f"{i}\n")
    _write(root, "side/labels.txt", "v1\n")
    _write(root, "src/score.py", SLOW)
    _write(
        root,
        "pipeline.yml",
        f"""
        type: pipeline
        jobs:
          score:
            type: parallel
            inputs:
              data: {{type: uri_folder, path: ./data}}
              side: {{type: uri_folder, path: ./side}}
            outputs:
              out: {{type: uri_folder}}
            input_data: ${{{{inputs.data}}}}
            mini_batch_size: "2"
            retry_settings: {{max_retries: 1, timeout: 1}}
            task:
              type: run_function
              code: ./src
              entry_script: score.py
              program_arguments: --side ${{{{inputs.side}}}}
              {action}
        """,
    )
    return root


def test_a_side_input_is_in_every_batch_key(tmp_path: Path) -> None:
    ws = _small(tmp_path)
    first = run_json("pipeline.yml", "-o", "score.outputs.out=out", cwd=ws)
    assert statuses(first) == {"score": "ran"}
    assert (ws / "out" / "parallel_run_step.txt").read_text().splitlines()[0] == "f0.txt v1"
    (ws / "side" / "labels.txt").write_text("v2\n")
    again = run_json("pipeline.yml", "-o", "score.outputs.out=out", cwd=ws)
    assert "(0 reused" in again["steps"][0]["reason"], again["steps"][0]["reason"]
    assert (ws / "out" / "parallel_run_step.txt").read_text().splitlines()[0] == "f0.txt v2"


def test_a_mini_batch_over_its_timeout_is_retried_then_left_out_with_its_error_logged(
    tmp_path: Path,
) -> None:
    ws = _small(tmp_path)
    _write(ws, "data/f3slow.txt", "slow\n")  # mini_batch_error_threshold -1: tolerated
    result = run_json("pipeline.yml", "-o", "score.outputs.out=out", cwd=ws)
    assert statuses(result) == {"score": "ran"}
    assert "1 mini-batches failed" in result["steps"][0]["reason"]
    rows = (ws / "out" / "parallel_run_step.txt").read_text().splitlines()
    assert "f3slow.txt v1" not in rows and "f0.txt v1" in rows
    logs = ws / ".amlrun" / "logs"
    errors = "".join(p.read_text() for p in logs.glob("*/score/worker-*/errors.txt"))
    assert "BatchTimeout" in errors and "attempt 1/2" in errors and "attempt 2/2" in errors
    progress = "".join(p.read_text() for p in logs.glob("*/score/worker-*/progress.txt"))
    assert "init() done" in progress and "items in" in progress
    (ws / "data" / "f3slow.txt").write_text("slow\n")  # still slow: the next run retries
    again = run_json("pipeline.yml", cwd=ws)  # only the failed batch, the others reused
    assert statuses(again) == {"score": "ran"}
    assert "1 ran)" in again["steps"][0]["reason"], again["steps"][0]["reason"]


def test_a_step_whose_every_mini_batch_failed_fails_whatever_the_thresholds(
    tmp_path: Path,
) -> None:
    ws = _small(tmp_path)
    (ws / "src" / "score.py").write_text("def run(mini_batch):\n    raise RuntimeError('no')\n")
    proc = amlrun("run", "pipeline.yml", cwd=ws)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1 and "the step fails: every mini-batch failed" in out, out


def test_summary_only_stores_no_rows(tmp_path: Path) -> None:
    ws = _small(tmp_path, action="")
    result = run_json("pipeline.yml", "-o", "score.outputs.out=out", cwd=ws)
    assert statuses(result) == {"score": "ran"}
    assert list((ws / "out").iterdir()) == []


def test_a_size_as_mini_batch_size_of_a_file_input_is_a_clear_error(ws: Path) -> None:
    text = (
        (ws / "pipeline.yml")
        .read_text()
        .replace('mini_batch_size: "10"', 'mini_batch_size: "10kb"')
    )
    (ws / "pipeline.yml").write_text(text)
    proc = amlrun("run", "pipeline.yml", cwd=ws)
    assert proc.returncode == 2
    assert "mini_batch_size '10kb' is not a positive number of files" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_an_output_passed_to_the_entry_script_is_refused_not_lost(ws: Path) -> None:
    text = (ws / "pipeline.yml").read_text()
    text = text.replace(
        "program_arguments: --suffix !", "program_arguments: --out ${{outputs.out}}"
    )
    (ws / "pipeline.yml").write_text(text)
    proc = amlrun("run", "pipeline.yml", cwd=ws)
    assert proc.returncode == 2
    assert "files run() writes there cannot be kept per mini-batch" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_a_run_killed_halfway_resumes_with_the_finished_batches_reused(ws: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    script = ws / "src" / "score.py"
    slow = "\n_run = run\ndef run(mini_batch):\n    import time\n    time.sleep(0.3)\n"
    script.write_text(script.read_text() + slow + "    return _run(mini_batch)\n")
    total = len(list((ws / "data").iterdir()))
    proc = subprocess.Popen(
        [sys.executable, "-c", "from amlrun.cli.main import main; main()", "run", "pipeline.yml"],
        cwd=ws,
        env={**os.environ, "AMLRUN_WORKSPACE": str(ws)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    calls = ws / "calls.txt"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if calls.exists() and calls.read_text().count("run ") >= 6:
            break
        time.sleep(0.05)
    time.sleep(0.5)  # let a chunk or two finish and be stored
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    calls.unlink()
    again = _run(ws)
    assert statuses(again) == {"score": "ran"}
    reason = again["steps"][0]["reason"]
    batches, reused = map(int, re.search(r"(\d+) mini-batches \((\d+) reused", reason).groups())
    assert 0 < reused < batches, reason  # killed halfway: some stored, some not
    rows = (ws / "result.txt").read_text().splitlines()
    assert len(rows) == total
