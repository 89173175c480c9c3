"""Pipeline benchmark: amlrun against a bash loop, doit, Snakemake and DVC, same commands.

    python bench/pipelines.py [--chain-sizes 10,100,300,1000] [--big 10000] [--quick]

Workloads (bench/_workloads.py) are chains and fan-outs ("wide") of N python steps, each with
its own code folder, a parameter, 1 MiB in and 1 MiB out. Every tool runs the scenarios of
bench/_scenarios.py on every workload; the figures (bench/_figures.py) are ratios against a
baseline measured in the same run. Also: a null run of ``--big`` steps (its store state
from one genuine cold run of the same pipeline on ``--big-kib`` KiB of data), and ``-j 2``
against ``-j 1`` on a wide pipeline of tiny steps. Work folders live in $TMPDIR.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _figures import big_figures, matrix, parallel_figures, workload_figures
from _install import baseline_tools
from _report import Figure, table
from _scenarios import Plan, ToolRuns, bench_workload, big_null, log, parallel
from _tools import Tool, Tools
from _workloads import Workload, make_workload

QUICK = {"chain_sizes": "10,30", "wide_sizes": "10", "big": 300, "wide_j": 20, "anchor_max": 10}


@dataclass
class Results:
    figures: list[Figure] = field(default_factory=list)
    matrix: list[str] = field(default_factory=list)  # every tool, every scenario
    raw: dict = field(default_factory=dict)
    context: list[str] = field(default_factory=list)


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chain-sizes", default="10,100,300,1000", help="chain step counts")
    ap.add_argument("--wide-sizes", default="100,1000", help="fan-out step counts ('': none)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per figure (median is kept)")
    ap.add_argument("--heavy-max-n", type=int, default=300, help="above: cold/restore/edit once")
    ap.add_argument("--anchor-max", type=int, default=300, help="Snakemake and DVC up to N steps")
    ap.add_argument("--anchor-shapes", default="chain", help="shapes Snakemake and DVC run")
    ap.add_argument("--dvc-max", type=int, default=10, help="DVC up to N steps (~0.5 s/stage)")
    ap.add_argument("--big", type=int, default=10000, help="steps of the big null run (0: skip)")
    ap.add_argument("--big-kib", type=int, default=1, help="seed size of the big run's pipeline")
    ap.add_argument("--big-python", default="python -S", help="the big run's interpreter command")
    ap.add_argument("--wide-j", type=int, default=100, help="tiny steps of the -j workload")
    ap.add_argument("--skip", default="", help="baselines to skip: snakemake,dvc")
    ap.add_argument("--quick", action="store_true", help="development only: " + str(QUICK))
    ap.add_argument("--json", metavar="PATH", help="also write every measure as JSON")
    args = ap.parse_args(argv)
    if args.quick:
        for k, v in QUICK.items():
            setattr(args, k, v)
    return args


def tools_for(tools: Tools, w: Workload, args: argparse.Namespace) -> list[Tool]:
    """The tools to run on ``w``: Snakemake and DVC only on their shapes and up to their
    size limits (their per-stage cost makes them the bulk of the bench's time)."""
    limit = {"snakemake": args.anchor_max, "dvc": min(args.anchor_max, args.dvc_max)}
    if w.shape not in args.anchor_shapes.split(","):
        limit = dict.fromkeys(limit, 0)
    n = len(w.steps)
    return [t for t in tools.available if n <= limit.get(t.name, n)]


def run(args: argparse.Namespace, tools: Tools, root: Path, res: Results) -> None:
    """Measure into ``res`` as it goes, so an interrupted bench keeps what finished."""
    plan = Plan(args.repeats, args.heavy_max_n)
    amlrun = tools.get("amlrun")
    assert amlrun is not None
    for shape, sizes in (("chain", args.chain_sizes), ("wide", args.wide_sizes)):
        for n in [int(s) for s in sizes.split(",") if s.strip()]:
            w = make_workload(shape, n)
            runs = bench_workload(tools_for(tools, w, args), w, root, plan)
            res.raw[w.name] = [asdict(r) for r in runs]
            res.figures += workload_figures(w, {r.tool: r for r in runs})
            res.matrix += [*matrix(w.name, runs), ""]
            res.context += consistency(w.name, runs)
    if args.wide_j:
        w = make_workload("wide", args.wide_j, data_kib=1)
        j = parallel(amlrun, w, root, args.repeats)
        res.raw[f"{w.name}-j"] = {k: [asdict(m) for m in v] for k, v in j.items()}
        res.figures += parallel_figures(w, j)
    if args.big:
        w = make_workload("chain", args.big, data_kib=args.big_kib, python=args.big_python)
        cold, nulls = big_null(amlrun, w, root, args.repeats)
        res.raw[w.name] = {"cold": asdict(cold), "null": [asdict(m) for m in nulls]}
        res.figures += big_figures(w, cold, nulls)


def consistency(name: str, runs: list[ToolRuns]) -> list[str]:
    """The same commands must leave the same final output in every tool (after the same
    number of edits: the anchors edit once, amlrun and bash once per repeat)."""
    notes = [f"- {name}, {r.tool}: {r.error}" for r in runs if r.error]
    for scenario in ("cold", "edit"):
        got = {
            (r.tool, len(r.runs[scenario])): r.final[scenario] for r in runs if scenario in r.final
        }
        for count in {c for _, c in got}:
            same = {t: d for (t, c), d in got.items() if c == count}
            if len(set(same.values())) > 1:
                notes.append(f"- WARNING {name}: final outputs after {scenario} differ: {same}")
    return notes


def measure_all(argv: list[str] | None = None) -> tuple[Results, Tools]:
    """Install the baselines, run every workload, return the figures (for bench/run.py)."""
    args = parse(argv)
    tools = baseline_tools({s.strip() for s in args.skip.split(",") if s.strip()})
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # kill -TERM: partial results
    root = Path(tempfile.mkdtemp(prefix="amlrun-bench-"))
    log(f"work folder: {root}")
    res = Results()
    try:
        run(args, tools, root, res)
    except KeyboardInterrupt:
        log("interrupted: reporting what finished")
        res.context.append("- INTERRUPTED: the figures below are what finished")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    res.context += [f"- {t}: not run ({why})" for t, why in tools.missing.items()]
    if args.json:
        Path(args.json).write_text(json.dumps(res.raw, indent=1))
    return res, tools


def main(argv: list[str] | None = None) -> int:
    res, _ = measure_all(argv)
    print("\n".join([*table(res.figures), "", *res.matrix, *res.context]))
    return 0 if all(f.passed is not False for f in res.figures) else 1


if __name__ == "__main__":
    sys.exit(main())
