"""Figures, the machine they were measured on, and bench/RESULTS.md.

A figure is one measured value against its baseline from the same bench run (a ratio,
or an absolute budget where the target is one), with its target and verdict.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "RESULTS.md"


@dataclass(frozen=True)
class Figure:
    name: str
    measured: str
    baseline: str  # what it is compared with ('' for an absolute budget)
    ratio: float | None
    target: str  # '' for a figure shown for context only
    passed: bool | None  # None: no target, or not measurable (see note)
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return "n/a" if self.target else ""
        return "pass" if self.passed else "FAIL"


def ratio_figure(
    name: str, value: float, base_name: str, base: float, limit: float | None, note: str = ""
) -> Figure:
    """``value / base`` seconds against ``<= limit`` (None: context only)."""
    ratio = value / base if base > 0 else float("inf")
    return Figure(
        name,
        f"{value:.3f} s",
        f"{base_name} {base:.3f} s",
        ratio,
        "" if limit is None else f"<= {limit:g}x",
        None if limit is None else ratio <= limit,
        note,
    )


def failed_figure(name: str, target: str, why: str) -> Figure:
    return Figure(name, "not measured", "", None, target, False, why)


@dataclass(frozen=True)
class Machine:
    cpus: int
    cpu_model: str
    memory_gb: float
    python: str
    system: str

    @staticmethod
    def here() -> Machine:
        model = "?"
        cpuinfo = Path("/proc/cpuinfo")
        if cpuinfo.exists():
            for line in cpuinfo.read_text().splitlines():
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        return Machine(
            len(os.sched_getaffinity(0)),
            model,
            pages / 2**30,
            platform.python_version(),
            f"{platform.system()} {platform.release()}",
        )


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def commit() -> str:
    """HEAD of the repository, with '+dirty' when the tree has uncommitted changes."""

    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    head = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def table(figures: list[Figure]) -> list[str]:
    lines = [
        "| figure | measured | baseline | ratio | target | result |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        ratio = "" if f.ratio is None else f"{f.ratio:.2f}x"
        note = f" ({f.note})" if f.note else ""
        lines.append(
            f"| {f.name} | {f.measured}{note} | {f.baseline} | {ratio} | {f.target} | {f.verdict} |"
        )
    return lines


def render(figures: list[Figure], context: list[str], header: dict[str, str]) -> str:
    """The whole RESULTS.md: header, the figures with targets, then context figures."""
    targets = [f for f in figures if f.target]
    others = [f for f in figures if not f.target]
    passed = sum(1 for f in targets if f.passed)
    lines = ["# amlrun benchmark results", ""]
    lines += [f"- {k}: {v}" for k, v in header.items()]
    lines += ["", f"## Targets ({passed} of {len(targets)} met)", "", *table(targets)]
    if others:
        lines += ["", "## Other figures (no target; same run)", "", *table(others)]
    lines += ["", "## How it was measured", "", *context, ""]
    return "\n".join(lines)


def write_results(figures: list[Figure], context: list[str], header: dict[str, str]) -> Path:
    RESULTS.write_text(render(figures, context, header))
    return RESULTS


def header(machine: Machine, load_before: str, started: dt.datetime, versions: str) -> dict:
    return {
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit(),
        "machine": f"{machine.cpus} CPUs ({machine.cpu_model}), {machine.memory_gb:.0f} GiB, "
        f"{machine.system}, Python {machine.python}",
        "load average (1/5/15 min) before": load_before,
        "load average after": load(),
        "duration": f"{(dt.datetime.now(dt.timezone.utc) - started).total_seconds() / 60:.1f} min",
        "tools": versions,
    }
