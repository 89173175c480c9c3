"""The three report formats, each a function of a :class:`~amlrun.reports.Report`.

JUnit: one test case per step, so CI test views list steps; a failed step or one that broke
the expectation is a failure, a skipped or cancelled step is skipped, and the reason is the
case's output. JSON: the ``--json`` step objects plus the expectation's verdict. Markdown: a
table for humans (pull request comments, the GitHub step summary).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from amlrun.reports import Report

_SKIPPED = frozenset({"skipped", "cancelled"})


def junit(report: Report) -> str:
    from xml.etree import ElementTree as ET  # only when a junit report is asked for

    failures = [s for s in report.steps if s.status == "failed" or s.name in report.violations]
    suite = ET.Element(
        "testsuite",
        name=f"amlrun {report.pipeline}",
        tests=str(len(report.steps)),
        failures=str(len(failures)),
        skipped=str(sum(s.status in _SKIPPED for s in report.steps)),
        time=f"{sum(s.duration_s for s in report.steps):.3f}",
    )
    for step in report.steps:
        case = ET.SubElement(
            suite, "testcase", classname=report.pipeline, name=step.name,
            time=f"{step.duration_s:.3f}",
        )  # fmt: skip
        problem = report.violations.get(step.name)
        if problem or step.status == "failed":
            ET.SubElement(case, "failure", message=problem or step.reason)
        elif step.status in _SKIPPED:
            ET.SubElement(case, "skipped", message=step.reason)
        ET.SubElement(case, "system-out").text = f"{step.status}: {step.reason}"
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def as_json(report: Report) -> str:
    doc = {
        "pipeline": report.pipeline,
        "run_id": report.run_id,
        "ok": report.ok,
        "violations": report.violations,
        "steps": [s.as_json() for s in report.steps],
    }
    return json.dumps(doc, indent=2) + "\n"


def markdown(report: Report) -> str:
    counts: dict[str, int] = {}
    for s in report.steps:
        counts[s.status] = counts.get(s.status, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    verdict = "" if report.ok else " — **failed**"
    lines = [
        f"### amlrun `{_cell(report.pipeline)}`: {summary}{verdict}",
        "",
        "| step | status | duration | why |",
        "| --- | --- | ---: | --- |",
    ]
    for s in report.steps:
        why = s.reason + (
            f" (**{report.violations[s.name]}**)" if s.name in report.violations else ""
        )
        lines.append(f"| {_cell(s.name)} | {s.status} | {s.duration_s:.2f}s | {_cell(why)} |")
    return "\n".join(lines) + "\n\n"


def _cell(text: str) -> str:
    """One table cell: no pipe or newline may break the row."""
    return " ".join(text.replace("|", "\\|").split())


FORMATS: dict[str, Callable[[Report], str]] = {
    "junit": junit,
    "json": as_json,
    "markdown": markdown,
}
