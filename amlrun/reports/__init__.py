"""Run reports for CI: ``--report junit:FILE``, ``json:FILE``, ``markdown:FILE``.

One row per step (status, duration, why it ran: the explanation ``amlrun status`` gives), so
a pull request shows which steps its change reran and why. When ``GITHUB_STEP_SUMMARY`` is
set (GitHub Actions), the markdown is appended there too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from amlrun.engine.state import StepOutcome
from amlrun.errors import AmlrunError, SpecError
from amlrun.reports.formats import FORMATS


@dataclass(frozen=True)
class Report:
    pipeline: str
    steps: tuple[StepOutcome, ...]
    run_id: str | None = None  # None: the run stopped at its plan (an expectation failed)
    #: step -> why it broke ``--expect-reuse`` / ``--expect-run``
    violations: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations and all(s.status in ("ran", "reused") for s in self.steps)


@dataclass(frozen=True)
class ReportTarget:
    format: str
    path: Path


def parse_targets(specs: Iterable[str]) -> list[ReportTarget]:
    """``FORMAT:FILE`` options, checked before anything runs (bad ones exit 2)."""
    targets = []
    for spec in specs:
        fmt, sep, path = spec.partition(":")
        if not sep or fmt not in FORMATS or not path:
            raise SpecError(
                f"--report {spec!r} is not FORMAT:FILE",
                field="--report",
                fix=f"write --report FORMAT:FILE with FORMAT one of {', '.join(FORMATS)}",
            )
        targets.append(ReportTarget(fmt, Path(path)))
    return targets


def write_reports(report: Report, targets: Iterable[ReportTarget]) -> None:
    """Each target, then the GitHub step summary when the job has one."""
    outputs = [(t.path, FORMATS[t.format](report), "w") for t in targets]
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        outputs.append((Path(summary), FORMATS["markdown"](report), "a"))
    for path, text, mode in outputs:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, mode, encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise AmlrunError(f"cannot write report {path}: {exc.strerror or exc}") from exc
