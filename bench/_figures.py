"""From measured runs to figures: each amlrun figure against its same-run baseline.

Targets (issue 9, 2-core machine) apply where the issue states them; the same figure on the
other workloads is printed for context (no target).
"""

from __future__ import annotations

import statistics

from _report import Figure, failed_figure, ratio_figure
from _scenarios import ToolRuns
from _tools import Measure
from _workloads import Workload

COLD_VS_BASH = {"chain-300": 1.15}
NULL_VS_DOIT = {"chain-300": 1.0, "chain-1000": 0.7}
TOUCH_VS_NULL = 1.5  # every workload
EDIT_MS_PER_STEP = {"chain-300": 3.0}
BIG_NULL_S, BIG_RSS_MB = 1.0, 150.0
PARALLEL_RATIO = 0.6


def _compare(
    title: str, a: ToolRuns, sa: str, b: ToolRuns | None, sb: str, base: str, limit: float | None
) -> Figure | None:
    """``a``'s median ``sa`` over ``b``'s median ``sb``; None when neither was measured."""
    target = "" if limit is None else f"<= {limit:g}x"
    va, vb = a.median(sa), b.median(sb) if b else None
    if va is None:
        return failed_figure(title, target, a.failure(sa)) if sa in a.runs or limit else None
    if vb is None:
        return failed_figure(title, target, "baseline: " + (b.failure(sb) if b else "not run"))
    return ratio_figure(title, va, base, vb, limit)


def _reruns(r: ToolRuns, scenario: str) -> str:
    counts = r.reruns(scenario)
    return "/".join("?" if c is None else str(c) for c in counts)


def workload_figures(w: Workload, by_tool: dict[str, ToolRuns]) -> list[Figure]:
    aml = by_tool.get("amlrun")
    if aml is None:
        return []
    bash, doit = by_tool.get("bash"), by_tool.get("doit")
    name = w.name
    figs = [
        _compare(f"cold, {name} / bash loop", aml, "cold", bash, "cold", "bash loop",
                 COLD_VS_BASH.get(name)),
        _compare(f"null rerun, {name} / doit null", aml, "null", doit, "null", "doit null",
                 NULL_VS_DOIT.get(name)),
        _touch(name, aml),
        _compare(f"restore after deleting outputs, {name} / bash loop", aml, "restore", bash,
                 "cold", "bash loop", None),
        *_edit(w, aml, bash),
    ]  # fmt: skip
    return [f for f in figs if f is not None]


def _touch(name: str, aml: ToolRuns) -> Figure:
    title = f"touch every file, {name}: reruns; / amlrun null"
    target = f"0 reruns, <= {TOUCH_VS_NULL:g}x"
    touch, null = aml.median("touch"), aml.median("null")
    if touch is None or null is None:
        return failed_figure(title, target, aml.failure("touch" if touch is None else "null"))
    reruns = aml.reruns("touch")
    ratio = touch / null
    passed = all(c == 0 for c in reruns) and ratio <= TOUCH_VS_NULL
    return Figure(
        title, f"{touch:.3f} s, reruns {_reruns(aml, 'touch')}", f"amlrun null {null:.3f} s",
        ratio, target, passed,
    )  # fmt: skip


def _edit(w: Workload, aml: ToolRuns, bash: ToolRuns | None) -> list[Figure]:
    """Did exactly the dependants rerun (every repeat), and at what cost per rerun step."""
    if "edit" not in aml.runs:
        return []
    expected = set(w.dependants_of_middle())
    k = len(expected)
    title = f"edit one parameter, {w.name}: reran exactly the {k} dependants"
    runs = aml.runs["edit"]
    wrong = [m for m in runs if set(m.ran or ()) != expected]
    first_wrong = f"; first wrong set: {_short(wrong[0])}" if wrong else ""
    exact = Figure(
        title,
        f"reruns {_reruns(aml, 'edit')}{first_wrong}",
        f"{k} expected", None, "exactly the dependants", not wrong and all(m.ok for m in runs),
    )  # fmt: skip
    limit = EDIT_MS_PER_STEP.get(w.name)
    title = f"edit one parameter, {w.name}: overhead per rerun step over bash"
    target = "" if limit is None else f"<= {limit:g} ms/step"
    va, vb = aml.median("edit"), bash.median("edit") if bash else None
    if va is None or vb is None:
        why = aml.failure("edit") if va is None else "bash loop of the dependants failed"
        return [exact, *([failed_figure(title, target, why)] if limit else [])]
    ms = (va - vb) * 1000 / k
    cost = Figure(
        title, f"{ms:.2f} ms/step ({va:.3f} s)", f"bash loop of the {k} dependants {vb:.3f} s",
        va / vb, target, None if limit is None else ms <= limit,
    )  # fmt: skip
    return [exact, cost]


def _short(m: Measure) -> str:
    ran = m.ran or ()
    return f"{len(ran)} ran: {', '.join(ran[:3])}{' ...' if len(ran) > 3 else ''}"


def parallel_figures(w: Workload, runs: dict[int, list[Measure]]) -> list[Figure]:
    title = f"{w.name} tiny steps, amlrun -j 2 / -j 1 (cold)"
    target = f"<= {PARALLEL_RATIO:g}x"
    bad = [m for ms in runs.values() for m in ms if not m.ok]
    if bad or not runs[1]:
        return [failed_figure(title, target, bad[0].note if bad else "not run")]
    j1 = statistics.median(m.seconds for m in runs[1])
    j2 = statistics.median(m.seconds for m in runs[2])
    return [ratio_figure(title, j2, "-j 1", j1, PARALLEL_RATIO)]


def big_figures(w: Workload, cold: Measure, nulls: list[Measure]) -> list[Figure]:
    title = f"null rerun, {w.name} ({w.data_kib} KiB data): time, peak RSS"
    target = f"< {BIG_NULL_S:g} s, < {BIG_RSS_MB:g} MB"
    if not cold.ok or not nulls or not all(m.ok for m in nulls):
        why = cold.note if not cold.ok else next((m.note for m in nulls if not m.ok), "not run")
        return [failed_figure(title, target, why)]
    seconds = statistics.median(m.seconds for m in nulls)
    rss = max(m.rss_mb for m in nulls)
    reused = all(m.executed == 0 for m in nulls)
    measured = f"{seconds:.3f} s, {rss:.0f} MB" + ("" if reused else " (steps reran!)")
    passed = seconds < BIG_NULL_S and rss < BIG_RSS_MB and reused
    note = f"bootstrap: one cold run, {cold.seconds:.0f} s, {cold.rss_mb:.0f} MB"
    return [Figure(title, measured, "budget", None, target, passed, note)]


def matrix(name: str, runs: list[ToolRuns]) -> list[str]:
    """Every tool's median seconds per scenario on one workload (reruns in brackets)."""
    head = ["cold", "null", "touch", "restore", "edit"]
    lines = [f"| {name} | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for r in runs:
        cells = []
        for s in head:
            med = r.median(s)
            if s not in r.runs:
                cells.append("-")
            elif med is None:
                cells.append("failed")
            else:
                cells.append(f"{med:.3f} [{_reruns(r, s)}] x{len(r.runs[s])}")
        lines.append(f"| {r.tool} | " + " | ".join(cells) + " |")
    return lines
