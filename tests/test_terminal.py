"""The terminal experience through the CLI: workspace discovery, install hints, option
checks, tables, --json errors, failures and outputs told (issue 12)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers import amlrun, run_json
from tests.pipeline_ws import make_workspace
from tests.talk_ws import make_talking_workspace

NO_WS = {"AMLRUN_WORKSPACE": ""}  # discovery as a user gets it, not the tests' override


def _block(tmp_path, module: str = "docker"):
    """An environment in which ``import MODULE`` fails as it does without the package."""
    fake = tmp_path / f"no{module}" / module
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        f"raise ModuleNotFoundError(\"No module named '{module}'\", name='{module}')\n"
    )
    return {"PYTHONPATH": str(fake.parent)}


# ------------------------------------------------------------------ 1. workspace discovery
def test_looking_outside_a_project_creates_no_workspace(tmp_path):
    spec = make_workspace(tmp_path / "proj")
    (tmp_path / "proj" / ".git").rmdir()
    here = tmp_path / "proj"
    for args in (
        ("runs", "list"),
        ("status", str(spec)),
        ("backends",),
        ("module", "show", str(here / "prep/prep.yml")),
        ("module", "validate", str(here)),
    ):
        proc = amlrun(*args, cwd=here, env=NO_WS)
        assert proc.returncode == 0, (args, proc.stderr)
        assert not (here / ".amlrun").exists(), args
    assert "no runs recorded yet" in amlrun("runs", "list", cwd=here, env=NO_WS).stdout


def test_a_subfolder_of_a_project_uses_the_projects_workspace(tmp_path):
    make_workspace(tmp_path)  # has .git
    sub = tmp_path / "prep" / "src"
    ran = amlrun("run", "../../pipeline.yml", cwd=sub, env=NO_WS, check=True)
    assert (tmp_path / ".amlrun" / "runs.sqlite").is_file(), ran.stderr
    assert not (sub / ".amlrun").exists()
    assert "succeeded" in amlrun("runs", "list", cwd=tmp_path / "prep", env=NO_WS).stdout


def test_init_creates_a_workspace_with_a_commented_config(tmp_path):
    proc = amlrun("init", cwd=tmp_path, env=NO_WS, check=True)
    config = tmp_path / ".amlrun" / "config.yaml"
    assert str(config) in proc.stdout
    text = config.read_text()
    assert "# compute:" in text and "# backends:" in text and "# store:" in text
    (tmp_path / "sub").mkdir()
    listed = amlrun("runs", "list", cwd=tmp_path / "sub", env=NO_WS, check=True)
    assert "no runs recorded yet" in listed.stdout  # found from below, config loads empty
    config.write_text("link: copy\n")
    again = amlrun("init", cwd=tmp_path, env=NO_WS, check=True)
    assert "already exists" in again.stdout and config.read_text() == "link: copy\n"


# ------------------------------------------------------------------ 2. missing extras
def test_backend_docker_without_the_package_is_one_line_naming_the_extra(tmp_path):
    spec = make_workspace(tmp_path)
    proc = amlrun("run", str(spec), "--backend", "docker", cwd=tmp_path, env=_block(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0, proc.stderr
    assert "pip install 'amlrun[docker]'" in proc.stderr and "Traceback" not in proc.stderr


def test_a_compute_mapped_to_a_missing_extra_names_the_extra(tmp_path):
    spec = make_workspace(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.amlrun.compute]\ncpu-cluster = "docker"\n')
    proc = amlrun("run", str(spec), cwd=tmp_path, env=_block(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert "pip install 'amlrun[docker]'" in proc.stderr and "Traceback" not in proc.stderr


def test_an_s3_store_without_s3fs_names_the_extra_also_in_json(tmp_path):
    spec = make_workspace(tmp_path)
    args = ("status", str(spec), "--store", "s3://bucket/cache")
    proc = amlrun(*args, cwd=tmp_path, env=_block(tmp_path, "s3fs"))
    assert proc.returncode == 2 and "pip install 'amlrun[s3]'" in proc.stderr, proc.stderr
    as_json = amlrun(*args, "--json", cwd=tmp_path, env=_block(tmp_path / "j", "s3fs"))
    assert as_json.returncode == 2
    assert json.loads(as_json.stdout)["error"]["fix"] == "pip install 'amlrun[s3]'"


def test_backends_tells_not_installed_from_installed_but_unreachable(tmp_path):
    blocked = amlrun("backends", cwd=tmp_path, env=_block(tmp_path), check=True).stdout
    docker = next(line for line in blocked.splitlines() if line.startswith("docker"))
    assert docker.split()[1] == "not-installed" and "pip install 'amlrun[docker]'" in docker
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no.sock", "AMLRUN_DASK_SCHEDULER": ""}
    rows = amlrun("backends", cwd=tmp_path, env=env, check=True).stdout.splitlines()
    docker = next(line for line in rows if line.startswith("docker"))
    assert docker.split()[1] == "unreachable" and "installed, engine not reachable" in docker
    assert "pip install" not in docker
    assert next(line for line in rows if line.startswith("local")).split()[1] == "ready"


# ------------------------------------------------------------------ 3. CLI polish
def test_dash_h_is_help_everywhere(tmp_path):
    for args in (
        (),
        ("run",),
        ("status",),
        ("init",),
        ("backends",),
        ("runs",),
        ("runs", "show"),
        ("runs", "logs"),
        ("module",),
        ("module", "run"),
        ("cache", "verify"),
    ):
        proc = amlrun(*args, "-h", cwd=tmp_path)
        assert proc.returncode == 0 and "Usage:" in proc.stdout, (args, proc.stderr)


def test_jobs_zero_is_refused_and_auto_is_accepted(tmp_path):
    spec = make_workspace(tmp_path)
    zero = amlrun("run", str(spec), "-j", "0", cwd=tmp_path)
    assert zero.returncode == 2 and "'0' is not a number of steps >= 1" in zero.stderr
    assert not (tmp_path / ".amlrun" / "runs.sqlite").exists()  # refused before running
    assert amlrun("run", str(spec), "-j", "auto", cwd=tmp_path).returncode == 0


def test_runs_show_is_an_aligned_table(tmp_path):
    spec = make_workspace(tmp_path)
    run_id = run_json(str(spec), cwd=tmp_path)["run_id"]
    shown = amlrun("runs", "show", run_id, cwd=tmp_path, check=True).stdout.splitlines()
    header, rows = shown[1], shown[2:]
    assert len(rows) == 4
    for column in ("STEP", "KEY", "BACKEND", "REASON"):  # every row's cell starts under it
        at = header.index(column)
        assert all(row[at - 1] == " " and row[at] != " " for row in rows), (column, shown)


def test_logs_of_a_reused_step_show_the_producing_runs_log_and_name_it(tmp_path):
    spec = make_talking_workspace(tmp_path)
    first = run_json(str(spec), cwd=tmp_path)["run_id"]
    second = run_json(str(spec), cwd=tmp_path)["run_id"]
    proc = amlrun("runs", "logs", second, "talker", cwd=tmp_path, check=True)
    assert proc.stdout == "tick 0\ntick 1\ntick 2\n"
    assert f"log of run {first}" in proc.stderr and "reused" in proc.stderr


def test_logs_of_a_step_reused_from_a_shared_store_come_from_the_store(tmp_path):
    shared = tmp_path / "shared"
    runs = {}
    for clone in ("ci", "laptop"):
        spec = make_talking_workspace(tmp_path / clone)
        (tmp_path / clone / "pyproject.toml").write_text(f'[tool.amlrun]\nstore = "{shared}"\n')
        runs[clone] = run_json(str(spec), cwd=tmp_path / clone)
    assert {s["status"] for s in runs["laptop"]["steps"]} == {"reused"}
    rid = runs["laptop"]["run_id"]
    proc = amlrun("runs", "logs", rid, "talker", cwd=tmp_path / "laptop", check=True)
    assert proc.stdout == "tick 0\ntick 1\ntick 2\n" and "stored with its result" in proc.stderr


def test_json_errors_are_one_json_object_with_the_same_exit_status(tmp_path):
    spec = make_workspace(tmp_path)
    text = spec.read_text().replace(
        "${{parent.jobs.prep.outputs.clean}}", "${{parent.jobs.nope.outputs.x}}"
    )
    spec.write_text(text)
    plain = amlrun("run", str(spec), cwd=tmp_path)
    for args in (("run", str(spec), "--json"), ("status", str(spec), "--json")):
        proc = amlrun(*args, cwd=tmp_path)
        assert proc.returncode == plain.returncode == 2
        error = json.loads(proc.stdout)["error"]  # the whole stdout is one object
        assert set(error) == {"file", "line", "field", "message", "fix"}
        assert error["file"].endswith("pipeline.yml") and isinstance(error["line"], int)
        assert "nope" in error["message"] and error["fix"]
    usage = amlrun("run", str(spec), "--json", "-j", "0", cwd=tmp_path)
    assert usage.returncode == 2 and "-j" in json.loads(usage.stdout)["error"]["message"]


def test_shell_completion_through_clicks_mechanism(tmp_path):
    script = amlrun(cwd=tmp_path, env={"_AMLRUN_COMPLETE": "bash_source"})
    assert "_AMLRUN_COMPLETE=bash_complete" in script.stdout
    env = {"_AMLRUN_COMPLETE": "bash_complete", "COMP_WORDS": "amlrun ru", "COMP_CWORD": "1"}
    words = amlrun(cwd=tmp_path, env=env).stdout.split()
    assert "plain,run" in words and "plain,runs" in words


# ------------------------------------------------------------------ 4. failures
def test_a_failed_step_prints_its_last_lines_and_its_log(tmp_path):
    spec = make_talking_workspace(tmp_path)
    proc = amlrun("run", str(spec), "--set", "fail=1", "--set", "lines=30", cwd=tmp_path)
    assert proc.returncode == 1
    err = proc.stderr
    assert "ValueError: boom" in err and "| tick 29" in err
    assert "| tick 9\n" not in err  # only the last ~20 lines
    log = re.search(r"full log: (\S+)", err).group(1)
    assert "tick 9\n" in Path(log).read_text()


def test_status_after_a_failure_names_the_failed_run_and_its_reason(tmp_path):
    spec = make_talking_workspace(tmp_path)
    failed = run_json(str(spec), "--set", "fail=1", cwd=tmp_path)["run_id"]
    shown = [amlrun("status", str(spec), "--set", "fail=1", cwd=tmp_path).stdout for _ in "ab"]
    assert shown[0] == shown[1]  # stable
    line = next(ln for ln in shown[0].splitlines() if "talker" in ln)
    assert f"failed in run {failed}: exit code 1" in line and "same key" not in line
    again = run_json(str(spec), "--set", "fail=1", cwd=tmp_path)
    reason = next(s["reason"] for s in again["steps"] if s["name"] == "talker")
    assert reason.startswith("exit code 1")  # the run's own reason is unchanged
    later = amlrun("status", str(spec), "--set", "fail=1", cwd=tmp_path).stdout
    assert f"failed in run {again['run_id']}: exit code 1" in later


def test_off_a_terminal_progress_is_plain_lines_and_streamed_lines_are_prefixed(tmp_path):
    spec = make_talking_workspace(tmp_path)
    proc = amlrun("run", str(spec), "--stream", cwd=tmp_path, check=True)
    assert proc.stdout.splitlines() == [
        "talker | tick 0",
        "talker | tick 1",
        "talker | tick 2",
        "quiet  | tick 0",
    ]
    err = proc.stderr.splitlines()
    assert "running   talker on local" in err and "\x1b" not in proc.stderr
    assert any(re.fullmatch(r"  quiet +\d+\.\d\ds  ran  local", line) for line in err), err
    quiet = amlrun("run", str(spec), "--set", "lines=4", cwd=tmp_path, check=True)
    assert quiet.stdout == "" and "tick" not in quiet.stderr  # without --stream: not printed


# ------------------------------------------------------------------ 5. outputs told
def test_after_a_run_each_output_is_told_with_how_to_get_it(tmp_path):
    spec = make_workspace(tmp_path)
    told = amlrun("run", "pipeline.yml", cwd=tmp_path, check=True).stderr
    hint = "output final: in the store; to get it: amlrun run pipeline.yml --output final=PATH"
    assert hint in told
    got = amlrun("run", "pipeline.yml", "--output", "final=out", cwd=tmp_path, check=True).stderr
    assert f"output final: {tmp_path / 'out'}" in got
    assert (tmp_path / "out" / "report.md").is_file()
    assert spec.exists()


def test_a_progress_bar_line_shows_its_last_state_and_split_lines_join():
    from amlrun.engine.progress import Running

    running = Running("local")
    assert running.feed(b"a\r\nb 10%\rb 100%\nhalf a li") == ["a", "b 100%"]
    assert running.feed("ne, é".encode()[:-1]) == []  # a character split across chunks
    assert running.feed("é".encode()[-1:] + b"\n") == ["half a line, é"]
    assert running.rest() == [] and list(running.tail) == ["a", "b 100%", "half a line, é"]
