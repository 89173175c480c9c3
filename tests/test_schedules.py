"""Schedules through the CLI: ``amlrun schedule …`` and ``amlrun scheduler --once --now T``
(the clock is driven, so no test waits for a real tick)."""

from __future__ import annotations

import json
import shutil
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from tests.helpers import amlrun

pytest.importorskip("cronsim", reason="needs amlrun[schedule]")

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared/corpus/v2_azureml_examples/cli/schedules"
PIPELINE = """
type: pipeline
inputs:
  greeting: hi
jobs:
  say:
    type: command
    command: echo ${{inputs.greeting}} > ${{outputs.out}}/said.txt
    inputs:
      greeting: ${{parent.inputs.greeting}}
    outputs:
      out:
        type: uri_folder
"""


def _ws(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pipeline.yml").write_text(PIPELINE)
    return tmp_path


def _schedule(ws: Path, name: str, trigger: str, extra: str = "", **kw) -> Path:
    path = ws / f"{name}.yml"
    path.write_text(
        f"name: {name}\ntrigger:\n{textwrap.indent(textwrap.dedent(trigger), '  ')}"
        f"create_job:\n  job: ./pipeline.yml\n{extra}"
    )
    amlrun("schedule", "create", "-f", path.name, *kw.get("args", ()), cwd=ws, check=True)
    return path


def _tick(ws: Path, now: datetime) -> str:
    proc = amlrun("scheduler", "--once", "--now", now.isoformat(), cwd=ws, check=True)
    return proc.stderr


def _firings(ws: Path, name: str) -> list[dict]:
    proc = amlrun("schedule", "show", name, "--json", cwd=ws, check=True)
    return json.loads(proc.stdout)["firings"][::-1]  # oldest first


def _next_hour() -> datetime:
    """The next whole hour: a tick of an hourly schedule created now. (Computed once per
    test, so a test that runs across a change of hour still sees one.)"""
    now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return now + timedelta(hours=1)


def test_corpus_schedule_on_the_example_fires_each_tick_and_the_second_firing_is_reused(tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(ROOT / "examples/sklearn-pipeline", ws)
    (ws / ".git").mkdir()
    doc = yaml.safe_load((CORPUS / "cron-with-settings-job-schedule.yml").read_text())
    doc["create_job"]["job"] = "./pipeline.yml"  # pointed at the example, as the issue says
    doc["create_job"]["inputs"] = {"n_estimators": 50}
    (ws / "schedule.yml").write_text(yaml.safe_dump(doc))
    created = amlrun("schedule", "create", "-f", "schedule.yml", cwd=ws, check=True)
    assert 'cron "0 * * * *" Pacific Standard Time' in created.stdout

    first = _next_hour()
    second = first + timedelta(hours=1)
    _tick(ws, first + timedelta(seconds=5))
    _tick(ws, second + timedelta(seconds=5))

    firings = _firings(ws, "cron_with_settings_job_schedule")
    assert [f["tick"] for f in firings] == [
        first.strftime("%Y-%m-%dT%H:%M:%SZ"),
        second.strftime("%Y-%m-%dT%H:%M:%SZ"),
    ]
    assert firings[0]["outcome"] == "succeeded (4 ran)"
    assert firings[1]["outcome"] == "succeeded (4 reused)"
    runs = amlrun("runs", "list", cwd=ws, check=True).stdout
    assert all(f["run_id"] in runs for f in firings)
    shown = amlrun("schedule", "show", "cron_with_settings_job_schedule", cwd=ws, check=True)
    assert "succeeded (4 reused)" in shown.stdout and firings[1]["run_id"] in shown.stdout


def test_a_restarted_scheduler_never_fires_a_tick_twice(tmp_path):
    ws = _ws(tmp_path)
    _schedule(ws, "hourly", 'type: cron\nexpression: "0 * * * *"\n', args=("--catch-up", "all"))
    tick = _next_hour()
    for seconds in (1, 1, 20, 59):  # four scheduler processes see the same tick
        _tick(ws, tick + timedelta(seconds=seconds))
    firings = _firings(ws, "hourly")
    assert len(firings) == 1 and firings[0]["outcome"] == "succeeded (1 ran)"


@pytest.mark.parametrize(
    ("policy", "fired", "skipped"),
    [("none", 0, 3), ("latest", 1, 2), ("all", 3, 0)],
)
def test_ticks_missed_while_no_scheduler_ran_follow_the_catch_up_policy(
    tmp_path, policy, fired, skipped
):
    ws = _ws(tmp_path)
    _schedule(
        ws, "hourly", 'type: cron\nexpression: "0 * * * *"\n', f"amlrun:\n  catch_up: {policy}\n"
    )
    start = _next_hour()
    _tick(ws, start + timedelta(seconds=5))  # fires on time
    _tick(ws, start + timedelta(hours=3, minutes=30))  # three ticks were missed meanwhile
    later = _firings(ws, "hourly")[1:]
    outcomes = [f["outcome"] for f in later]
    assert sum(o.startswith("succeeded") for o in outcomes) == fired
    assert outcomes.count("skipped") == skipped
    if policy == "latest":
        assert later[-1]["tick"] == (start + timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_catch_up_given_on_the_command_line_overrides_the_file(tmp_path):
    ws = _ws(tmp_path)
    _schedule(
        ws,
        "hourly",
        'type: cron\nexpression: "0 * * * *"\n',
        "amlrun:\n  catch_up: none\n",
        args=("--catch-up", "latest"),
    )
    shown = json.loads(amlrun("schedule", "show", "hourly", "--json", cwd=ws, check=True).stdout)
    assert shown["catch_up"] == "latest"


def test_data_trigger_fires_once_per_content_change_not_per_touch(tmp_path):
    ws = _ws(tmp_path)
    data = ws / "incoming"
    data.mkdir()
    (data / "a.csv").write_text("1\n")
    _schedule(ws, "on-data", "type: data\npath: ./incoming\npolling_interval: 1s\n")
    t = datetime.now(timezone.utc) + timedelta(seconds=5)

    _tick(ws, t)  # nothing changed since create
    (data / "a.csv").write_text("2\n")
    _tick(ws, t + timedelta(seconds=2))  # fires
    _tick(ws, t + timedelta(seconds=4))  # same content: nothing
    (data / "a.csv").write_text("2\n")  # rewritten with the same bytes (a new mtime)
    _tick(ws, t + timedelta(seconds=6))
    (data / "b.csv").write_text("3\n")
    _tick(ws, t + timedelta(seconds=8))  # fires

    firings = _firings(ws, "on-data")
    assert len(firings) == 2
    assert all(f["reason"].startswith("data changed under") for f in firings)
    assert firings[0]["outcome"].startswith("succeeded")


def test_a_disabled_schedule_does_not_fire_and_enabling_it_does_not_backfill(tmp_path):
    ws = _ws(tmp_path)
    _schedule(ws, "hourly", 'type: cron\nexpression: "0 * * * *"\n', args=("--catch-up", "all"))
    amlrun("schedule", "disable", "hourly", cwd=ws, check=True)
    hour = _next_hour()
    _tick(ws, hour + timedelta(seconds=5))
    assert _firings(ws, "hourly") == []
    listed = amlrun("schedule", "list", cwd=ws, check=True).stdout
    assert "hourly" in listed and "disabled" in listed
    amlrun("schedule", "enable", "hourly", cwd=ws, check=True)
    later = hour + timedelta(hours=1)
    _tick(ws, later + timedelta(seconds=5))  # the tick of the first hour stays unfired
    assert [f["tick"] for f in _firings(ws, "hourly")] == [later.strftime("%Y-%m-%dT%H:%M:%SZ")]
    amlrun("schedule", "delete", "hourly", cwd=ws, check=True)
    gone = amlrun("schedule", "show", "hourly", cwd=ws)
    assert gone.returncode == 2 and "no schedule 'hourly'" in gone.stderr


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('trigger:\n  type: cron\n  expression: "61 * * * *"\n', "trigger.expression"),
        (
            'trigger:\n  type: cron\n  expression: "0 * * * *"\n  time_zone: Mars Time\n',
            "trigger.time_zone",
        ),
        ("trigger:\n  type: recurrence\n  frequency: fortnight\n  interval: 1\n", "frequency"),
        ("trigger:\n  type: recurrence\n  frequency: day\n  interval: 0\n", "trigger.interval"),
        ('trigger:\n  type: cron\n  expresion: "0 * * * *"\n', "trigger.expresion"),
        ("trigger:\n  type: data\n  polling_interval: 5\n", "trigger.path"),
        ("trigger:\n  type: data\n  path: .\n  polling_interval: 0.5s\n", "polling_interval"),
        ('trigger:\n  type: cron\n  expression: "0 * * * *"\n  start_time: soon\n', "start_time"),
    ],
)
def test_a_bad_schedule_is_one_error_naming_the_file_and_field(tmp_path, body, field):
    ws = _ws(tmp_path)
    (ws / "bad.yml").write_text(f"name: bad\n{body}create_job: ./pipeline.yml\n")
    proc = amlrun("schedule", "create", "-f", "bad.yml", cwd=ws)
    assert proc.returncode == 2, proc.stderr
    assert "bad.yml" in proc.stderr and field in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_schedule_of_a_missing_pipeline_file_is_refused(tmp_path):
    ws = _ws(tmp_path)
    (ws / "s.yml").write_text(
        'name: s\ntrigger: {type: cron, expression: "0 * * * *"}\ncreate_job: ./nope.yml\n'
    )
    proc = amlrun("schedule", "create", "-f", "s.yml", cwd=ws)
    assert proc.returncode == 2 and "create_job.job" in proc.stderr and "nope.yml" in proc.stderr


def test_listing_schedules_never_creates_a_workspace(tmp_path):
    proc = amlrun("schedule", "list", cwd=tmp_path, check=True)
    assert "no schedules" in proc.stdout
    assert not (tmp_path / ".amlrun").exists()


def test_create_job_settings_reach_the_run(tmp_path):
    ws = _ws(tmp_path)
    _schedule(
        ws,
        "hourly",
        'type: cron\nexpression: "0 * * * *"\n',
        "  settings:\n    force_rerun: true\n",
        args=("--catch-up", "all"),
    )
    hour = _next_hour()
    _tick(ws, hour + timedelta(seconds=5))
    _tick(ws, hour + timedelta(hours=1, seconds=5))
    assert [f["outcome"] for f in _firings(ws, "hourly")] == ["succeeded (1 ran)"] * 2


def test_schedule_expressions_fill_the_job_inputs(tmp_path):
    ws = _ws(tmp_path)
    _schedule(
        ws,
        "hourly",
        'type: cron\nexpression: "0 * * * *"\n',
        "  inputs:\n    greeting: ${{creation_context.trigger_time}}\n",
    )
    tick = _next_hour()
    _tick(ws, tick + timedelta(seconds=5))
    (firing,) = _firings(ws, "hourly")
    proc = amlrun("runs", "outputs", firing["run_id"], "say", "-o", "got", cwd=ws, check=True)
    said = next((ws / "got").rglob("said.txt")).read_text()
    assert said.strip() == tick.strftime("%Y-%m-%dT%H:%M:%SZ"), proc.stdout


def test_a_schedule_whose_pipeline_moved_is_listed_with_the_problem(tmp_path):
    ws = _ws(tmp_path)
    _schedule(ws, "hourly", 'type: cron\nexpression: "0 * * * *"\n')
    (ws / "pipeline.yml").rename(ws / "moved.yml")
    listed = amlrun("schedule", "list", cwd=ws, check=True).stdout
    assert "hourly" in listed and "invalid" in listed
    shown = amlrun("schedule", "show", "hourly", cwd=ws, check=True).stdout
    assert "problem:" in shown and "pipeline.yml" in shown
    ticked = _tick(ws, _next_hour() + timedelta(seconds=5))
    assert "schedule hourly:" in ticked and "not found" in ticked


def test_the_running_scheduler_fires_a_data_change_within_seconds_and_stops_on_ctrl_c(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    ws = _ws(tmp_path)
    (ws / "incoming").mkdir()
    _schedule(ws, "on-data", "type: data\npath: ./incoming\npolling_interval: 1s\n")
    env = {**os.environ, "AMLRUN_WORKSPACE": str(ws)}
    main = "from amlrun.cli.main import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", main, "scheduler", "--every", "0.2"],
        cwd=ws,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)
        (ws / "incoming/a.csv").write_text("1\n")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            firings = _firings(ws, "on-data")
            if firings and firings[0]["outcome"].startswith("succeeded"):
                break
            time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert [f["outcome"] for f in firings] == ["succeeded (1 ran)"]
    assert "fired on-data" in err


def test_the_corpus_schedule_runs_verbatim_and_name_reruns_only_the_step_reading_it(tmp_path):
    for f in CORPUS.glob("*.yml"):
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / ".git").mkdir()
    amlrun(
        "schedule", "create", "-f", "cron-with-settings-job-schedule.yml", cwd=tmp_path, check=True
    )
    hour = _next_hour()
    _tick(tmp_path, hour + timedelta(seconds=5))
    _tick(tmp_path, hour + timedelta(hours=1, seconds=5))
    outcomes = [f["outcome"] for f in _firings(tmp_path, "cron_with_settings_job_schedule")]
    # ${{name}} is the job's name, new at each tick: step a reads it, b and c are reused
    assert outcomes == ["succeeded (3 ran)", "succeeded (1 ran, 2 reused)"]


def test_now_without_once_is_refused(tmp_path):
    proc = amlrun("scheduler", "--now", "2030-01-01T00:00:00", cwd=_ws(tmp_path))
    assert proc.returncode == 2 and "--now needs --once" in proc.stderr


def test_a_job_written_with_the_file_prefix_is_the_pipeline_file(tmp_path):
    ws = _ws(tmp_path)
    (ws / "s.yml").write_text(
        "name: s\ntrigger: {type: recurrence, frequency: day, interval: 1}\n"
        "create_job: {type: pipeline, job: file:pipeline.yml}\n"
    )
    amlrun("schedule", "create", "-f", "s.yml", cwd=ws, check=True)
    shown = json.loads(amlrun("schedule", "show", "s", "--json", cwd=ws, check=True).stdout)
    assert shown["job"] == str((ws / "pipeline.yml").resolve())
    assert shown["trigger"] == "every 1 day UTC"


def test_a_data_input_of_the_job_is_read_relative_to_the_schedule_file(tmp_path):
    from tests.pipeline_ws import make_workspace

    make_workspace(tmp_path)
    (tmp_path / "schedules/other").mkdir(parents=True)
    (tmp_path / "schedules/other/rows.csv").write_text("q,5\n")
    (tmp_path / "schedules/s.yml").write_text(
        'name: s\ntrigger: {type: cron, expression: "0 * * * *"}\n'
        "create_job:\n  job: ../pipeline.yml\n"
        "  inputs:\n    raw: {type: uri_folder, path: ./other}\n"
    )
    amlrun("schedule", "create", "-f", "schedules/s.yml", cwd=tmp_path, check=True)
    _tick(tmp_path, _next_hour() + timedelta(seconds=5))
    (firing,) = _firings(tmp_path, "s")
    assert firing["outcome"] == "succeeded (4 ran)", firing
    amlrun("runs", "outputs", firing["run_id"], "prep", "-o", "got", cwd=tmp_path, check=True)
    assert next((tmp_path / "got").rglob("clean.csv")).read_text() == "q,10\n"
