"""Pipelines of any length or nesting depth load and plan: graph code never recurses."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.helpers import amlrun

CHAIN = 20_000


def _chain_listed_last_step_first(n: int) -> str:
    """A v2 pipeline of ``n`` inline command jobs s0 -> s1 -> ..., written in reverse order."""
    lines = ["type: pipeline", "display_name: long-chain", "jobs:"]
    for i in reversed(range(n)):
        lines += [f"  s{i}:", "    type: command"]
        if i == 0:
            lines.append("    command: echo 0 > ${{outputs.out}}/f.txt")
        else:
            lines += [
                "    command: cat ${{inputs.src}}/f.txt > ${{outputs.out}}/f.txt",
                "    inputs:",
                f"      src: ${{{{parent.jobs.s{i - 1}.outputs.out}}}}",
            ]
        lines += ["    outputs:", "      out: {type: uri_folder}"]
    return "\n".join(lines) + "\n"


def test_a_20000_step_chain_listed_in_reverse_plans_in_dependency_order(tmp_path: Path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pipeline.yml").write_text(_chain_listed_last_step_first(CHAIN))
    started = time.perf_counter()
    proc = amlrun("run", "pipeline.yml", "--dry-run", "--json", cwd=tmp_path, timeout=120)
    elapsed = time.perf_counter() - started
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "RecursionError" not in proc.stderr
    steps = json.loads(proc.stdout.splitlines()[-1])["steps"]
    assert [s["name"] for s in steps] == [f"s{i}" for i in range(CHAIN)]
    assert steps[0]["status"] == "would-run"
    assert {s["status"] for s in steps[1:]} == {"unknown"}
    assert elapsed < 60, f"planning took {elapsed:.1f} s"


def test_pipeline_components_nested_1500_deep_load_and_plan(tmp_path: Path):
    depth = 1500  # deeper than Python's default recursion limit
    (tmp_path / ".git").mkdir()
    for i in range(depth):
        inner = (
            f"  inner:\n    type: pipeline\n    component: ./p{i + 1}.yml\n"
            if i < depth - 1
            else "  leaf:\n    type: command\n    command: echo leaf\n"
        )
        head = "type: pipeline\n" if i == 0 else "type: pipeline\nname: p\n"
        (tmp_path / f"p{i}.yml").write_text(f"{head}jobs:\n{inner}")
    proc = amlrun("run", "p0.yml", "--dry-run", "--json", cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (step,) = json.loads(proc.stdout.splitlines()[-1])["steps"]
    assert step["name"] == "inner/" * (depth - 1) + "leaf"
    assert step["status"] == "would-run"


def test_nodes_with_equal_ports_and_commands_share_them_in_the_plan(tmp_path: Path):
    """Memory of a long pipeline: equal parts are one object (a 10,000-step plan halves)."""
    from amlrun.pipelines.load import load_yaml_pipeline

    (tmp_path / "pipeline.yml").write_text(_chain_listed_last_step_first(50))
    steps = list(load_yaml_pipeline(tmp_path / "pipeline.yml").steps.values())
    s1, s2, s3 = (s.module for s in steps[1:4])

    assert s1.command is s2.command is s3.command  # equal: cat ... > ...
    assert s1.outputs is s2.outputs and s1.inputs is s2.inputs
    assert steps[0].module.command is not s1.command  # not equal: echo 0 > ...
    assert s1.name != s2.name  # each node still its own module
