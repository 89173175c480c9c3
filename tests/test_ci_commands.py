"""CI assertions and reports: a pull request's job says what its change reruns, and shows why."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.helpers import amlrun, run_json, statuses
from tests.pipeline_ws import make_workspace


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A workspace whose pipeline ran once, then train.py edited without changing its output."""
    pipeline = make_workspace(tmp_path)
    assert set(statuses(run_json(str(pipeline), cwd=tmp_path)).values()) == {"ran"}
    script = tmp_path / "train" / "src" / "train.py"
    script.write_text(script.read_text() + "# tuned\n")
    return tmp_path


def _run(ws: Path, *args: str, **kw):
    return amlrun("run", str(ws / "pipeline.yml"), *args, cwd=ws, **kw)


def _would_run(ws: Path) -> set[str]:
    proc = amlrun("status", str(ws / "pipeline.yml"), "--json", cwd=ws, check=True)
    return {s["name"] for s in json.loads(proc.stdout)["steps"] if s["status"] != "reused"}


def test_expect_reuse_exits_3_before_a_step_that_would_run_runs(ws: Path) -> None:
    proc = _run(ws, "--expect-reuse")

    assert proc.returncode == 3, proc.stderr
    assert "train: expected to be reused, but would-run: snapshot files changed: train.py" in (
        proc.stderr
    )
    assert _would_run(ws) == {"train", "report"}  # nothing ran: train still has to


def test_expect_reuse_passes_when_every_step_is_reused(ws: Path) -> None:
    _run(ws, check=True)

    assert _run(ws, "--expect-reuse").returncode == 0


def test_expect_run_passes_for_exactly_the_steps_that_ran(ws: Path) -> None:
    result = run_json(str(ws / "pipeline.yml"), "--expect-run", "train", cwd=ws)

    assert statuses(result) == {"prep": "reused", "train": "ran", "report": "reused",
                                "side": "reused"}  # fmt: skip


def test_expect_run_exits_3_when_a_listed_step_is_reused_after_all(ws: Path) -> None:
    proc = _run(ws, "--expect-run", "train,report")

    assert proc.returncode == 3, proc.stderr
    assert "report: expected to run, but reused" in proc.stderr


def test_expect_run_exits_3_before_running_when_an_unlisted_step_would_run(ws: Path) -> None:
    proc = _run(ws, "--expect-run", "prep")

    assert proc.returncode == 3, proc.stderr
    assert "before running" in proc.stderr and "train: expected to be reused" in proc.stderr
    assert "train" in _would_run(ws)


def test_expect_run_with_an_unknown_step_is_bad_input(ws: Path) -> None:
    proc = _run(ws, "--expect-run", "trian")

    assert proc.returncode == 2
    assert "--expect-run names step 'trian'" in proc.stderr and "did you mean 'train'" in (
        proc.stderr
    )


def test_reports_show_each_step_with_its_status_and_why_it_ran(ws: Path) -> None:
    summary = ws / "summary.md"
    summary.write_text("earlier job step\n")
    out = ws / "reports"

    proc = _run(
        ws, "--report", f"junit:{out}/junit.xml", "--report", f"json:{out}/run.json",
        "--report", f"markdown:{out}/run.md", env={"GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip

    assert proc.returncode == 0, proc.stderr
    cases = ET.parse(out / "junit.xml").getroot().findall("testcase")
    assert {c.get("name"): c.findtext("system-out") for c in cases}["train"] == (
        "ran: snapshot files changed: train.py"
    )
    assert not [c for c in cases if c.find("failure") is not None]
    doc = json.loads((out / "run.json").read_text())
    assert doc["ok"] and doc["run_id"] and len(doc["steps"]) == 4
    rows = [ln for ln in (out / "run.md").read_text().splitlines() if ln.startswith("| train ")]
    assert len(rows) == 1 and "| ran |" in rows[0] and "snapshot files changed: train.py" in rows[0]
    assert summary.read_text() == "earlier job step\n" + (out / "run.md").read_text()


def test_a_broken_expectation_is_a_failure_in_the_junit_report(ws: Path) -> None:
    report = ws / "junit.xml"

    assert _run(ws, "--expect-reuse", "--report", f"junit:{report}").returncode == 3
    failed = {
        c.get("name"): c.find("failure").get("message")
        for c in ET.parse(report).getroot().findall("testcase")
        if c.find("failure") is not None
    }
    assert set(failed) == {"train"}  # report waits on train: it may yet be reused
    assert failed["train"].startswith("expected to be reused, but would-run: snapshot files")


def test_a_malformed_report_option_is_bad_input(ws: Path) -> None:
    proc = _run(ws, "--report", "html:out.html")

    assert proc.returncode == 2 and "FORMAT one of junit, json, markdown" in proc.stderr
