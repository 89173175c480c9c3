"""The incremental contract: exactly the steps whose key changed rerun, and status says why."""

from __future__ import annotations

import os
import time

import pytest

from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace

ALL = {"prep", "train", "report", "side"}


@pytest.fixture
def ws(tmp_path):
    pipeline = make_workspace(tmp_path)
    first = run_json(str(pipeline), cwd=tmp_path)
    assert set(statuses(first).values()) == {"ran"}, first
    return tmp_path


def ran(result: dict) -> set[str]:
    return {n for n, s in statuses(result).items() if s == "ran"}


def rerun(ws, *args) -> dict:
    return run_json(str(ws / "pipeline.yml"), *args, cwd=ws)


def test_cloud_environment_and_compute_each_get_one_note(ws):
    proc = amlrun("run", str(ws / "pipeline.yml"), "--force", "prep", cwd=ws, check=True)
    notes = [ln for ln in proc.stderr.splitlines() if ln.startswith("note:")]
    assert notes == [
        "note: compute 'cpu-cluster' runs on the local backend "
        "(map compute names in [tool.amlrun.compute])",
        "note: environment AzureML-sklearn-1.0 has no local definition and runs on the current "
        'interpreter (to pin it, add to [tool.amlrun.environments]: "AzureML-sklearn-1.0" = '
        '{pip = ["PACKAGE==VERSION"]})',
    ]


def test_second_run_reuses_every_step(ws):
    result = rerun(ws)
    assert set(statuses(result).values()) == {"reused"}
    assert all(s["key"] for s in result["steps"])


def test_editing_a_script_reruns_that_step_and_dependants_whose_inputs_changed(ws):
    src = ws / "prep/src/prep.py"
    src.write_text(src.read_text().replace("int(v) * factor", "int(v) * factor + 1"))
    status = amlrun("status", str(ws / "pipeline.yml"), cwd=ws, check=True).stdout
    assert "would-run  prep" in status and "snapshot files changed: prep.py" in status
    assert "depends on upstream (prep will run)" in status
    assert ran(rerun(ws)) == {"prep", "train", "report"}


def test_output_identical_after_rerun_keeps_dependants_reused(ws):
    src = ws / "train/src/train.py"
    src.write_text(src.read_text() + "\n# a comment changes the snapshot, not the output\n")
    assert ran(rerun(ws)) == {"train"}  # report is reused: early cutoff


def test_a_file_ignored_by_amlignore_reruns_nothing(ws):
    (ws / "prep/src/notes.txt").write_text("edited\n")
    assert ran(rerun(ws)) == set()


def test_changing_a_parameter_reruns_from_that_step(ws):
    assert ran(rerun(ws, "--set", "inputs.epochs=3")) == {"train", "report"}
    status = amlrun("status", str(ws / "pipeline.yml"), "--set", "inputs.epochs=5", cwd=ws).stdout
    assert "parameter epochs: 3 -> 5" in status


def test_changing_input_data_reruns_its_consumers(ws):
    (ws / "data/rows.csv").write_text("a,1\nb,2\nc,4\n")
    assert ran(rerun(ws)) == {"prep", "train", "report"}


def test_changing_the_environment_reruns_the_step(ws):
    spec = ws / "prep/prep.yml"
    spec.write_text(spec.read_text().replace("AzureML-sklearn-1.0:1", "AzureML-sklearn-1.0:2"))
    status = amlrun("status", str(ws / "pipeline.yml"), cwd=ws).stdout
    assert "environment changed" in status
    assert "prep" in ran(rerun(ws))


def test_changing_the_command_template_reruns_the_step(ws):
    spec = ws / "side/side.yml"
    spec.write_text(
        spec.read_text().replace("side.py ${{inputs.word}}", "side.py  ${{inputs.word}}x")
    )
    assert ran(rerun(ws)) == {"side"}


def test_renaming_redescribing_or_bumping_a_module_version_reruns_nothing(ws):
    spec = ws / "prep/prep.yml"
    text = spec.read_text().replace("name: prep", "name: prep_renamed")
    text = text.replace("version: 1", "version: 7").replace("doubles the numbers", "new words")
    spec.write_text(text)
    assert ran(rerun(ws)) == set()


def test_force_and_non_deterministic_steps_rerun(ws):
    assert ran(rerun(ws, "--force", "side")) == {"side"}
    spec = ws / "side/side.yml"
    spec.write_text(spec.read_text() + "is_deterministic: false\n")
    assert ran(rerun(ws)) == {"side"}
    assert ran(rerun(ws)) == {"side"}


def test_settings_force_rerun_reruns_everything(ws):
    p = ws / "pipeline.yml"
    p.write_text(p.read_text().replace("settings:\n", "settings:\n  force_rerun: true\n"))
    assert ran(rerun(ws)) == ALL


def test_a_failed_step_stores_nothing_skips_dependants_and_independent_branches_go_on(tmp_path):
    pipeline = make_workspace(tmp_path)
    src = tmp_path / "train/src/train.py"
    src.write_text("raise SystemExit(3)\n")
    proc = amlrun("run", str(pipeline), "--json", cwd=tmp_path)
    assert proc.returncode == 1
    import json

    result = json.loads(proc.stdout.strip().splitlines()[-1])
    st = statuses(result)
    assert st == {"prep": "ran", "train": "failed", "report": "skipped", "side": "ran"}
    assert "exit code 3" in next(s["reason"] for s in result["steps"] if s["name"] == "train")
    again = run_json(str(pipeline), cwd=tmp_path)
    assert statuses(again)["train"] == "failed" and statuses(again)["prep"] == "reused"


def test_pipeline_outputs_are_materialized_as_read_only_copies_of_the_store(ws):
    out = ws / "final_out"
    rerun(ws, "--output", f"final={out}")
    assert (out / "report.md").read_text() == "# report\nsum=12\n"
    blob = next((ws / ".amlrun/cache/cas").rglob("*"), None)
    assert blob is not None
    assert (out / "report.md").stat().st_nlink == 1  # a copy (or reflink), not a hardlink
    assert (out / "report.md").stat().st_mode & 0o777 == 0o444
    (out / "report.md").unlink()  # deleting the materialized copy loses nothing
    rerun(ws, "--output", f"final={out}")
    assert (out / "report.md").read_text() == "# report\nsum=12\n"


def test_parallel_run_gives_the_same_result(tmp_path):
    pipeline = make_workspace(tmp_path)
    result = run_json(str(pipeline), "-j", "2", cwd=tmp_path)
    assert set(statuses(result).values()) == {"ran"}
    again = run_json(str(pipeline), "-j", "2", cwd=tmp_path)
    assert set(statuses(again).values()) == {"reused"}


def test_a_run_killed_mid_step_loses_nothing_finished(tmp_path):
    import signal
    import subprocess
    import sys

    pipeline = make_workspace(tmp_path)
    src = tmp_path / "report/src/report.py"
    src.write_text("import time; time.sleep(30)\n" + src.read_text())
    env = {**os.environ, "AMLRUN_WORKSPACE": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from amlrun.cli.main import main; main()", "run", str(pipeline)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.time() + 60
    while (
        time.time() < deadline and len(list((tmp_path / ".amlrun/cache/steps").glob("*.json"))) < 3
    ):
        time.sleep(0.1)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    src.write_text(src.read_text().replace("import time; time.sleep(30)\n", ""))
    result = run_json(str(pipeline), cwd=tmp_path)
    st = statuses(result)
    assert st["prep"] == "reused" and st["train"] == "reused" and st["report"] == "ran"
    verify = amlrun("cache", "verify", cwd=tmp_path)
    assert verify.returncode == 0, verify.stdout


def test_two_concurrent_runs_on_one_store_both_succeed_and_the_store_verifies(tmp_path):
    import subprocess
    import sys

    a, b = tmp_path / "a", tmp_path / "b"
    store = tmp_path / "shared-store"
    procs = []
    for ws in (a, b):
        ws.mkdir()
        pipeline = make_workspace(ws)
        env = {**os.environ, "AMLRUN_WORKSPACE": str(ws)}
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    "from amlrun.cli.main import main; main()",
                    "run",
                    str(pipeline),
                    "--store",
                    str(store),
                    "-j",
                    "2",
                ],
                cwd=ws,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    verify = amlrun("cache", "verify", "--store", str(store), cwd=a)
    assert verify.returncode == 0, verify.stdout
    result = run_json(str(a / "pipeline.yml"), "--store", str(store), cwd=a)
    assert set(statuses(result).values()) == {"reused"}


def test_memory_store_url_works(tmp_path):
    pipeline = make_workspace(tmp_path)
    result = run_json(str(pipeline), "--store", "memory://amlrun-test", cwd=tmp_path)
    assert set(statuses(result).values()) == {"ran"}


def test_ctrl_c_cancels_running_steps_cleanly(tmp_path):
    import json
    import signal
    import subprocess
    import sys

    pipeline = make_workspace(tmp_path)
    src = tmp_path / "train/src/train.py"
    src.write_text("import time; time.sleep(60)\n")
    env = {**os.environ, "AMLRUN_WORKSPACE": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from amlrun.cli.main import main; main()", "run",
         str(pipeline), "--json"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline and not list((tmp_path / ".amlrun/tmp").glob("train-*")):
        time.sleep(0.05)
    time.sleep(0.3)
    started = time.time()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert time.time() - started < 10  # the 60 s sleep was killed, not waited for
    assert proc.returncode == 1, err
    st = statuses(json.loads(out.strip().splitlines()[-1]))
    assert st["train"] == "cancelled" and st["report"] in ("skipped", "cancelled")
    assert st["prep"] == "ran"
    assert amlrun("cache", "verify", cwd=tmp_path).returncode == 0
    assert amlrun("runs", "list", cwd=tmp_path).stdout.split()[3] == "cancelled"


#: a store writer that stops (and says where) at one chosen point inside a write, so the
#: test kills it exactly there; the store code runs unchanged, only its byte copy and
#: os.replace are wrapped
_WRITER = """
import os, pathlib, sys, time
from amlrun.cache.store import open_store

point, nth = sys.argv[3], int(sys.argv[4])
calls = {"n": 0}

def stop(where):
    print(f"stopped {where}", flush=True)
    time.sleep(3600)

def hit():
    calls["n"] += 1
    return calls["n"] == nth

import amlrun.cache.files as files

real_copy, real_replace = files._copy, os.replace

def copy(src_fd, dest_fd, size):
    if point == "mid-blob-copy" and hit():
        os.pwrite(dest_fd, os.pread(src_fd, size // 2, 0), 0)
        stop(os.readlink(f"/proc/self/fd/{dest_fd}"))
    return real_copy(src_fd, dest_fd, size)

def replace(src, dst):
    is_manifest = str(dst).endswith(".json")
    if (point == "blob-rename") != is_manifest and point != "mid-blob-copy" and hit():
        stop(src)
    return real_replace(src, dst)

files._copy, os.replace = copy, replace
s = open_store(sys.argv[1], pathlib.Path(sys.argv[1]))
for i in range(1000):
    entries, is_file = s.put_tree(pathlib.Path(sys.argv[2]))
    s.put_manifest(f"k{i:04d}", {"outputs": {"o": {"is_file": is_file, "entries": entries}}})
"""


def _kill_at(store, tree, point: str, nth: int) -> str:
    """Run the writer until it stops at ``point`` (its ``nth`` time there), then SIGKILL it."""
    import select
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(store), str(tree), point, str(nth)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        line = proc.stdout.readline() if ready else ""
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert line.startswith("stopped "), f"the writer never reached {point} ({proc.returncode})"
    return line.removeprefix("stopped ").strip()


def test_sigkill_during_store_writes_never_leaves_a_broken_entry(tmp_path):
    from pathlib import Path

    from amlrun.cache.store import open_store

    tree = tmp_path / "tree"
    for i in range(400):
        (tree / f"d{i % 7}").mkdir(parents=True, exist_ok=True)
        (tree / f"d{i % 7}" / f"f{i}.bin").write_bytes(os.urandom(2048) * (1 + i % 5))
    store = tmp_path / "store"
    # killed halfway through copying a blob, then before a blob's rename, then before the
    # third manifest's rename (all blobs and two manifests are complete by then)
    half_copied = _kill_at(store, tree, "mid-blob-copy", 50)
    assert Path(half_copied).stat().st_size > 0
    assert Path(_kill_at(store, tree, "blob-rename", 120)).exists()
    assert Path(_kill_at(store, tree, "manifest-rename", 3)).exists()

    s = open_store(str(store), tmp_path)
    assert s.verify() == []
    written = sorted(p.stem for p in (store / "steps").glob("*.json"))
    assert written == ["k0000", "k0001"]
    for key in written:
        assert s.get_manifest(key) is not None


def test_live_progress_on_a_terminal_finishes_and_reports(tmp_path):
    import shutil
    import subprocess
    import sys

    if shutil.which("script") is None:
        pytest.skip("util-linux 'script' (to give the run a terminal) is not installed")
    pipeline = make_workspace(tmp_path)
    cmd = f"{sys.executable} -c 'from amlrun.cli.main import main; main()' run {pipeline}"
    env = {**os.environ, "AMLRUN_WORKSPACE": str(tmp_path), "TERM": "xterm"}
    proc = subprocess.run(["script", "-qec", cmd, "/dev/null"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stdout
    assert "4 ran" in proc.stdout and "[tool.amlrun.compute]" in proc.stdout
