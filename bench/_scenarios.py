"""The scenarios each tool goes through on one workload, in one folder, in this order.

cold      a fresh folder (sources, definition, empty state), then a run
null      a rerun with nothing changed
touch     every user file's mtime set to a new time (content unchanged), then a rerun
restore   the outputs a user sees deleted (amlrun: not its store), then a rerun
edit      the middle step's parameter changed (a new value each repeat), then a rerun

The bash loop has no state: it is measured cold, and on the edit it runs only the steps an
edit must rerun (the floor for an incremental tool). Every repeat is a separate process;
figures use the median. Scenarios where a tool may run every step (cold, restore, edit)
are costly, so only amlrun and the bash loop (the figures and their baselines) repeat them,
up to ``heavy_max_n`` steps, and run them once above; the other tools (anchors, context)
run them once, and above ``heavy_max_n`` only cold (the state their null run needs). Null
and touch runs are always repeated (doit's null run is the baseline of amlrun's).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from _spellings import write_bash
from _tools import Bash, Measure, Tool
from _workloads import PARAM, Workload, user_files

SCENARIOS = ("cold", "null", "touch", "restore", "edit")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class ToolRuns:
    """Every measured run of one tool on one workload, by scenario."""

    tool: str
    steps: int
    runs: dict[str, list[Measure]] = field(default_factory=dict)
    final: dict[str, str] = field(default_factory=dict)  # scenario -> digest of final output
    error: str = ""

    def median(self, scenario: str) -> float | None:
        ms = self.runs.get(scenario)
        if not ms or not all(m.ok for m in ms):
            return None
        return statistics.median(m.seconds for m in ms)

    def failure(self, scenario: str) -> str:
        bad = [m for m in self.runs.get(scenario, []) if not m.ok]
        if bad:
            return bad[0].note or "failed"
        return self.error or f"{scenario} not measured"

    def reruns(self, scenario: str) -> list[int | None]:
        return [m.executed for m in self.runs.get(scenario, [])]


@dataclass(frozen=True)
class Plan:
    repeats: int = 3
    heavy_max_n: int = 300
    edit_max_reruns: int = 300  # skip the edit where it must rerun more steps than this
    figure_tools: tuple[str, ...] = ("amlrun", "bash")  # heavy scenarios repeated for these

    def heavy(self, tool: str, n: int, scenario: str) -> int:
        """Runs of a scenario that may execute every step (0: skipped)."""
        small = n <= self.heavy_max_n
        if tool in self.figure_tools:
            return self.repeats if small else 1
        return 1 if small or scenario == "cold" else 0


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else "missing"


def touch_all(folder: Path) -> int:
    """Give every user file one new mtime (the same for all: no file looks newer than
    another, so mtime-based tools see no change of order either)."""
    files = user_files(folder)
    now = time.time_ns()
    for f in files:
        os.utime(f, ns=(now, now))
    return len(files)


def edit_tool(tool: Tool, w: Workload, param: int, folder: Path) -> None:
    """Apply the edit: a tool rereads its definition; the bash loop gets only the dependants."""
    edited = w.edited(param)
    if isinstance(tool, Bash):
        keep = set(w.dependants_of_middle())
        write_bash([s for s in edited.steps if s.name in keep], folder)
    else:
        tool.define(edited, folder)


def _prepare(tool: Tool, w: Workload, folder: Path, scenario: str, i: int) -> None:
    """What happens before run ``i`` of ``scenario`` (the runs themselves are alike)."""
    if scenario == "cold":
        tool.prepare(w, folder)
    elif scenario == "touch":
        touch_all(folder)
    elif scenario == "restore":
        tool.delete_outputs(folder)
    elif scenario == "edit":
        edit_tool(tool, w, PARAM + 1 + i, folder)


def _runs_of(tool: Tool, w: Workload, plan: Plan, scenario: str) -> int:
    if isinstance(tool, Bash) and scenario not in ("cold", "edit"):
        return 0  # no state: nothing to rerun incrementally
    if scenario == "edit" and len(w.dependants_of_middle()) > plan.edit_max_reruns:
        return 0
    if scenario in ("null", "touch"):
        return plan.repeats
    return plan.heavy(tool.name, len(w.steps), scenario)


def bench_workload(tools: list[Tool], w: Workload, root: Path, plan: Plan) -> list[ToolRuns]:
    """Every tool through every scenario on ``w``, interleaved: run ``i`` of a scenario goes
    round the tools before run ``i + 1``, so a change of machine load during the bench
    hits a figure and its baseline alike. A tool that fails stops there; the others go on.
    The folders are removed at the end (each holds 1 MiB per step)."""
    folders = {t.name: root / w.name / t.name for t in tools}
    out = {t.name: ToolRuns(t.name, len(w.steps)) for t in tools}
    for scenario in SCENARIOS:
        counts = {t.name: _runs_of(t, w, plan, scenario) for t in tools}
        for i in range(max(counts.values(), default=0)):
            for tool in tools:
                r = out[tool.name]
                if i < counts[tool.name] and not r.error:
                    _measure(tool, w, folders[tool.name], scenario, i, r)
        for tool in tools:
            r = out[tool.name]
            if counts[tool.name] and not r.error:
                r.final[scenario] = _digest(tool.final_output(w, folders[tool.name]))
    for folder in folders.values():
        shutil.rmtree(folder, ignore_errors=True)
    return list(out.values())


def _measure(tool: Tool, w: Workload, folder: Path, scenario: str, i: int, r: ToolRuns) -> None:
    try:
        _prepare(tool, w, folder, scenario, i)
        m = tool.run(folder)
    except Exception as exc:  # one tool failing must not stop the others
        r.error = f"{scenario}: {type(exc).__name__}: {exc}"
        return
    r.runs.setdefault(scenario, []).append(m)
    log(f"  {w.name:>14} {tool.name:9} {scenario:7} {m.seconds:8.3f} s [{m.executed}]")
    if not m.ok:
        r.error = f"{scenario}: {m.note}"


def parallel(tool: Tool, w: Workload, root: Path, repeats: int) -> dict[int, list[Measure]]:
    """Cold runs of ``w`` with -j 1 and -j 2, alternating, each in a fresh folder."""
    runs: dict[int, list[Measure]] = {1: [], 2: []}
    folder = root / f"{w.name}-j" / tool.name
    for _ in range(repeats):
        for jobs in (1, 2):
            tool.prepare(w, folder)
            m = tool.run(folder, jobs)
            runs[jobs].append(m)
            log(f"  {w.name:>14} {tool.name:9} -j {jobs}    {m.seconds:8.3f} s [{m.executed}]")
    shutil.rmtree(folder, ignore_errors=True)
    return runs


def big_null(tool: Tool, w: Workload, root: Path, repeats: int) -> tuple[Measure, list[Measure]]:
    """The state after a genuine cold run of ``w`` (the bootstrap), then null reruns."""
    folder = root / w.name / tool.name
    log(f"  {w.name:>14} {tool.name:9} cold (bootstrap of the null runs) ...")
    tool.prepare(w, folder)
    cold = tool.run(folder)
    nulls = []
    for _ in range(repeats if cold.ok else 0):
        nulls.append(tool.run(folder))
        m = nulls[-1]
        rss = f"{m.rss_mb:.0f} MB"
        log(f"  {w.name:>14} {tool.name:9} null    {m.seconds:8.3f} s [{m.executed}] {rss}")
    shutil.rmtree(folder, ignore_errors=True)
    return cold, nulls
