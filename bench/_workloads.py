"""Workload generators for bench/pipelines.py: one DAG of tiny shell steps, four spellings.

Every step runs the same shell command in every tool; only the paths differ (an amlrun
step names its data ``${{inputs.in0}}``/``${{outputs.out}}``, the others ``out/<step>``).
A step hashes what its inputs hold and appends its own tag, so a change upstream reaches
every step downstream, and an unchanged output stops it (all three tools cut off there).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

OUT = "out"  # where DVC, doit and the bash script keep step outputs (relative to the dir)
FILE = "f.txt"  # the one file each step writes into its output folder
FINAL = "final"  # the name of amlrun's pipeline output


@dataclass(frozen=True)
class Step:
    name: str
    deps: tuple[str, ...]  # upstream step names
    tag: str  # what the step appends; editing a step changes it
    sleep_s: float = 0.0  # simulated work (the -j workload)

    def command(self, ins: Sequence[str], out: str) -> str:
        """The shell command, given its input folders and its output folder."""
        pre = f"sleep {self.sleep_s:g} && " if self.sleep_s else ""
        if not ins:
            return f"{pre}mkdir -p {out} && echo {self.tag} > {out}/{FILE}"
        files = " ".join(f"{i}/{FILE}" for i in ins)
        return f"{pre}mkdir -p {out} && {{ cat {files} | cksum; echo {self.tag}; }} > {out}/{FILE}"


@dataclass(frozen=True)
class Workload:
    shape: str  # chain | wide
    steps: tuple[Step, ...]  # topological order

    @property
    def name(self) -> str:
        sleep = self.steps[-1].sleep_s
        return f"{self.shape}-{len(self.steps)}" + (f"-sleep{sleep:g}" if sleep else "")

    @property
    def final(self) -> Step:
        """The step whose output is the pipeline output (the last one)."""
        return self.steps[-1]

    @property
    def middle(self) -> Step:
        return self.steps[len(self.steps) // 2]

    def edited(self) -> Workload:
        """The same workload with the middle step's command changed."""
        mid = self.middle.name
        return replace(
            self,
            steps=tuple(
                replace(s, tag=f"{s.tag}-edited") if s.name == mid else s for s in self.steps
            ),
        )

    def expected_reruns_after_edit(self) -> int:
        """Steps whose output changes when the middle step is edited (it and dependants)."""
        changed = {self.middle.name}
        for s in self.steps:
            if changed.intersection(s.deps):
                changed.add(s.name)
        return len(changed)


def make_workload(shape: str, n: int, sleep_s: float = 0.0) -> Workload:
    """``chain``: s0 -> s1 -> ... ; ``wide``: s0 fans out to s1..s(n-1)."""
    if n < 2:
        raise ValueError("a workload needs at least 2 steps")
    steps = [Step("s0", (), "s0", sleep_s)]
    for i in range(1, n):
        deps = (f"s{i - 1}",) if shape == "chain" else ("s0",)
        if shape not in ("chain", "wide"):
            raise ValueError(f"unknown shape {shape!r}")
        steps.append(Step(f"s{i}", deps, f"s{i}", sleep_s))
    return Workload(shape, tuple(steps))


def _q(text: str) -> str:
    """A YAML scalar (JSON strings are valid YAML and quick to write for 10,000 steps)."""
    return json.dumps(text)


def write_amlrun(w: Workload, folder: Path) -> Path:
    """A v2 pipeline job with inline command nodes; the last output is promoted."""
    lines = [
        "$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json",
        "type: pipeline",
        f"display_name: {w.name}",
        "settings: {default_compute: azureml:cpu-cluster, continue_on_step_failure: false}",
        "outputs:",
        f"  {FINAL}: {{type: uri_folder}}",
        "jobs:",
    ]
    for s in w.steps:
        ins = [f"${{{{inputs.in{k}}}}}" for k in range(len(s.deps))]
        lines += [
            f"  {s.name}:",
            "    type: command",
            f"    command: {_q(s.command(ins, '${{outputs.out}}'))}",
        ]
        if s.deps:
            lines.append("    inputs:")
            lines += [
                f"      in{k}: ${{{{parent.jobs.{d}.outputs.out}}}}" for k, d in enumerate(s.deps)
            ]
        out = f"${{{{parent.outputs.{FINAL}}}}}" if s is w.final else ""
        lines += ["    outputs:", f"      out: {out}".rstrip()]
    path = folder / "pipeline.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_dvc(w: Workload, folder: Path) -> Path:
    lines = ["stages:"]
    for s in w.steps:
        ins = [f"{OUT}/{d}" for d in s.deps]
        lines += [f"  {s.name}:", f"    cmd: {_q(s.command(ins, f'{OUT}/{s.name}'))}"]
        if ins:
            lines.append("    deps: [" + ", ".join(ins) + "]")
        lines.append(f"    outs: [{OUT}/{s.name}]")
    path = folder / "dvc.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def write_doit(w: Workload, folder: Path) -> Path:
    """A dodo.py: file_dep/targets per step, and config_changed so edits rerun a step."""
    rows = [
        (
            s.name,
            [f"{OUT}/{d}/{FILE}" for d in s.deps],
            s.command([f"{OUT}/{d}" for d in s.deps], f"{OUT}/{s.name}"),
        )
        for s in w.steps
    ]
    text = f'''"""Generated by bench/pipelines.py."""
from doit.tools import config_changed

DOIT_CONFIG = {{"verbosity": 0}}
STEPS = {json.dumps(rows, indent=0)}


def task_step():
    for name, deps, cmd in STEPS:
        yield {{
            "basename": name,
            "actions": [cmd],
            "file_dep": deps,
            "targets": ["{OUT}/" + name + "/{FILE}"],
            "uptodate": [config_changed(cmd)],
        }}
'''
    path = folder / "dodo.py"
    path.write_text(text)
    return path


def write_bash(w: Workload, folder: Path) -> Path:
    """The floor: the same commands, one after another, in one shell."""
    cmds = [s.command([f"{OUT}/{d}" for d in s.deps], f"{OUT}/{s.name}") for s in w.steps]
    path = folder / "run.sh"
    path.write_text("set -e\n" + "\n".join(cmds) + "\n")
    return path
