"""Remote-cache benchmark: a cold CI job with a warm team cache, on moto S3 and Azurite.

    python bench/remote.py [--steps 300] [--kib 64] [--repeats 3] [--skip-azure] [--skip-example]

For each server (started and stopped here, on 127.0.0.1) and workload (the example
pipeline, a chain of ``--steps`` python steps from bench/_workloads.py with ``--kib`` KiB per
step): a "main" job fills the team cache (``.amlrun/cache,URL``); the local-store null run is
timed in that folder (``--store .amlrun/cache``); then the measured job, each repeat in a
fresh copy of the sources (no ``.amlrun/``, as a fresh CI clone), runs with the team cache
read-only (``.amlrun/cache,URL?ro``) and asks for the pipeline's final output; it is timed
talking to the server, and run once more through a proxy that counts every request and byte
on the wire (the instrument is not timed). For context, a fresh clone with the full store copied in
(no remote) is timed too: what the clone itself costs. Figures: its wall time against the
local null run (goal <= 3x for the chain), and the bytes it received against the manifests
of its steps plus the asked output (goal <= 1x; the step-key index is counted as received).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.fixtures
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import Figure, failed_figure, ratio_figure, table
from _servers import SERVERS, Server
from _spellings import write_amlrun
from _tools import BIN, ENV, timed
from _workloads import FINAL, make_workload, write_sources

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "sklearn-pipeline"
WALL_GOAL = 3.0  # x the local null run, for the chain
BYTES_GOAL = 1.0  # x (manifests + asked outputs)


@dataclass(frozen=True)
class Workload:
    name: str
    source: Path  # a folder holding pipeline.yml and everything it reads
    output: str  # the pipeline output the CI job asks for
    gates: bool  # whether the wall-time goal applies


@dataclass(frozen=True)
class Result:
    server: str
    workload: Workload
    null_s: float
    cold_s: float
    fresh_local_s: float  # a fresh clone with the full store copied in: no remote
    requests: int
    received: int  # bytes on the wire, headers included
    body: int  # of which response bodies
    expected: int  # manifests of its steps + the asked output
    note: str = ""


def _workloads(root: Path, args: argparse.Namespace) -> list[Workload]:
    chain = make_workload("chain", args.steps, data_kib=args.kib)
    folder = root / "src" / chain.name
    write_sources(chain, folder)
    write_amlrun(chain, folder)
    found = [Workload(chain.name, folder, FINAL, True)]
    if not args.skip_example:
        found.append(Workload("example", EXAMPLE, "metrics", False))
    return found


def _run(folder: Path, store: str, env: dict[str, str], output: str) -> tuple[float, dict]:
    argv = [str(BIN / "amlrun"), "run", "pipeline.yml", "--json", "--store", store]
    argv += ["--output", f"{output}=results/{output}"]
    m, text = timed(argv, folder, {**ENV, **env, "AMLRUN_WORKSPACE": str(folder)})
    doc = next((json.loads(ln) for ln in text.splitlines() if ln.startswith("{")), None)
    if not m.ok or doc is None:
        raise RuntimeError(f"amlrun run --store {store} failed: {m.note}")
    return m.seconds, doc


def _fresh(w: Workload, dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(w.source, dest, ignore=shutil.ignore_patterns(".amlrun", "results"))
    return dest


def _expected(server: Server, doc: dict, asked: tuple[str, str]) -> int:
    """Bytes of the run's manifests in the store, plus those of the asked output."""
    fs = server.fs()
    total = 0
    for s in doc["steps"]:
        data = fs.cat_file(server.path(f"steps/{s['key']}.json"))
        total += len(data)
        if s["name"] == asked[0]:
            entries = json.loads(data)["outputs"][asked[1]]["entries"]
            total += sum(size for _h, size, _m in entries.values())
    return total


def measure(server: Server, w: Workload, root: Path, repeats: int) -> Result:
    main = _fresh(w, root / f"main-{server.name}-{w.name}")
    _, filled = _run(main, f".amlrun/cache,{server.url}", server.direct, w.output)
    if {s["status"] for s in filled["steps"]} != {"ran"}:
        raise RuntimeError(f"the main job did not run every step: {filled['steps'][:1]}")
    nulls = [_run(main, ".amlrun/cache", server.direct, w.output)[0] for _ in range(repeats)]
    colds, traffic, doc = [], [], {}
    for i in range(repeats + 1):  # timed talking to the server; counted once, via the proxy
        clone = _fresh(w, root / f"ci-{server.name}-{w.name}-{i}")
        server.proxy.reset()
        env = server.counted if i == repeats else server.direct
        seconds, doc = _run(clone, f".amlrun/cache,{server.url}?ro", env, w.output)
        if {s["status"] for s in doc["steps"]} != {"reused"}:
            raise RuntimeError("the CI job did not reuse every step")
        if i < repeats:
            colds.append(seconds)
    traffic = server.proxy.reset()
    fresh = []  # what a fresh clone costs with no remote at all: its store copied in
    for i in range(repeats):
        clone = _fresh(w, root / f"local-{server.name}-{w.name}-{i}")
        shutil.copytree(main / ".amlrun" / "cache", clone / ".amlrun" / "cache")
        fresh.append(_run(clone, ".amlrun/cache", server.direct, w.output)[0])
    blobs = sum(1 for e in traffic if "/cas/" in e.path and e.method == "GET")
    return Result(
        server.name, w, statistics.median(nulls), statistics.median(colds),
        statistics.median(fresh), len(traffic),
        sum(e.received + e.sent for e in traffic), sum(e.body for e in traffic),
        _expected(server, doc, _asked(main, w)),
        f"{blobs} blob GETs (the asked output's files)",
    )  # fmt: skip


def _asked(folder: Path, w: Workload) -> tuple[str, str]:
    """(step, output) that the pipeline output ``w.output`` is (from the pipeline file)."""
    from amlrun.pipelines.load import load_yaml_pipeline

    po = load_yaml_pipeline(folder / "pipeline.yml").outputs[w.output]
    return po.step, po.output


def to_figures(results: list[Result]) -> list[Figure]:
    figs = []
    for r in results:
        name = f"remote {r.server} {r.workload.name}: cold CI job, warm cache"
        limit = WALL_GOAL if r.workload.gates else None
        figs.append(ratio_figure(name, r.cold_s, "local null run", r.null_s, limit))
        own = f"remote {r.server} {r.workload.name}: same, fresh clone, local store full"
        why = "context: the fresh clone's own cost (no statcache, no plan cache), no remote"
        figs.append(ratio_figure(own, r.fresh_local_s, "local null run", r.null_s, None, why))
        ratio = r.body / r.expected if r.expected else float("inf")
        figs.append(
            Figure(
                f"remote {r.server} {r.workload.name}: bytes received",
                f"{r.body / 1024:.1f} KiB in {r.requests} requests "
                f"({r.received / 1024:.1f} KiB with headers, both ways)",
                f"manifests + asked output {r.expected / 1024:.1f} KiB",
                ratio,
                f"<= {BYTES_GOAL:g}x",
                ratio <= BYTES_GOAL,
                r.note,
            )
        )
    return figs


def figures(argv: list[str] | None = None) -> list[Figure]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--kib", type=int, default=64, help="data per step (KiB)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-azure", action="store_true")
    ap.add_argument("--skip-example", action="store_true")
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="amlrun-bench-remote-"))
    figs: list[Figure] = []
    try:
        workloads = _workloads(root, args)
        for name, start in SERVERS.items():
            if name == "azure" and args.skip_azure:
                continue
            try:
                with start() as server:
                    results = [measure(server, w, root, args.repeats) for w in workloads]
                figs += to_figures(results)
            except Exception as exc:  # a server that cannot start: say so, fail the figure
                figs.append(failed_figure(f"remote {name}", "runs", str(exc)[:200]))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return figs


def main() -> int:
    figs = figures(sys.argv[1:])
    print("\n".join(table(figs)))
    return 0 if all(f.passed is not False for f in figs) else 1


if __name__ == "__main__":
    sys.exit(main())
