"""The whole benchmark (``doit bench``): every figure README quotes, into bench/RESULTS.md.

    python bench/run.py            # the full run (~18 min on the busy 2-core machine)
    python bench/run.py --quick    # development only: small N, not for RESULTS.md figures

Runs bench/hashing.py, bench/pipelines.py, bench/parallel.py, bench/backends.py (docker
and dask, each started and stopped by the bench; ``--skip-backends`` leaves them out) and
bench/remote.py (moto and Azurite; ``--skip-remote``) in this process,
prints the table and writes
bench/RESULTS.md (``--quick`` writes bench/.work/RESULTS-quick.md instead, so a quick run
never stands in for the real figures). Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import backends
import hashing
import parallel
import pipelines
import remote
from _report import RESULTS, Machine, header, load, render, table

QUICK_HASHING = ["--size-mb", "128", "--files", "2000"]
QUICK_BACKENDS = ["--steps", "5", "--repeats", "1"]
QUICK_PARALLEL = ["--files", "400", "--repeats", "1"]
QUICK_REMOTE = ["--steps", "20", "--repeats", "1"]

METHOD = [
    "- Every figure is the median of 3 runs, each a new process timed from outside "
    "(start-up included), against a baseline measured in the same bench run; "
    "runs in which a tool may execute every step (cold, restore, edit) are repeated for "
    "amlrun and the bash loop up to 300 steps and measured once otherwise.",
    "- Workloads: chains (N = 10, 100, 300, 1,000) and fan-outs (wide: N = 100, 1,000) "
    "of N python steps; each step has its own "
    "code folder (its snapshot), a parameter, reads 1 MiB and writes 1 MiB "
    "(bench/_workloads.py). Every tool runs the identical command lines; `python` is the "
    "same interpreter for all.",
    "- touch: every user file (seed, code, definitions, outputs; not the tools' own "
    "dot-folders) gets one new mtime, the same for all files (no input looks newer than "
    "its output), contents unchanged. restore: the outputs a user sees are deleted "
    "(amlrun: `.amlrun/out` and the materialized output, not the store). edit: the middle "
    "step's parameter gets a new value each repeat; the bash baseline runs only the steps "
    "that must rerun.",
    "- The 10,000-step null run's store state comes from one genuine cold run of the same "
    "pipeline with a 1 KiB seed and `python -S` steps (1 MiB per step would be 20 GB on "
    "disk; the null run reads no step's data either way).",
    "- Backends: cold runs of a 20-step chain of the same python steps (1 KiB data) on the "
    "local, docker and dask backends, after one warm-up run each; median of 3.",
    "- Parallel step: a v2 parallel node over 2,000 small files (mini_batch_size 20, 2 "
    "workers, run() doing ~2 ms of work per file) against one Python process calling init() "
    "and run() over the same mini-batches (bench/parallel.py); median of 3.",
    "- Remote cache (bench/remote.py): moto's S3 and Azurite on 127.0.0.1, each behind a "
    "counting proxy; a main job fills the team cache, then a cold CI job (a fresh copy of "
    "the sources, empty local store, the team cache `?ro`) reuses every step of the example "
    "pipeline and of a 300-step chain (64 KiB per step) and asks for the final output; wall "
    "time against the local-store null run of the same folder, bytes received against the "
    "run's manifests plus the asked output (the step-key index counts as received).",
    "- Snakemake and DVC are installed by the bench into bench/.work/venv (pip) and run the "
    "chains: Snakemake up to 300 steps, DVC up to 10 (`dvc repro` costs ~0.5 s per stage "
    "here, ~3 min for the 100-step chain's scenarios; see --anchor-max, --dvc-max, "
    "--anchor-shapes).",
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="development only: small N")
    ap.add_argument("--skip-backends", action="store_true", help="no docker/dask figures")
    ap.add_argument("--skip-remote", action="store_true", help="no moto/Azurite figures")
    args, rest = ap.parse_known_args(argv)
    # only a full run is RESULTS.md
    full = not (args.quick or rest or args.skip_backends or args.skip_remote)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a user's machine (see _tools.ENV)
    started = dt.datetime.now(dt.timezone.utc)
    machine, load_before = Machine.here(), load()
    print(f"load average before: {load_before}", file=sys.stderr)
    figures = hashing.figures(QUICK_HASHING if args.quick else [])
    res, tools = pipelines.measure_all([*(["--quick"] if args.quick else []), *rest])
    figures += res.figures
    figures += parallel.figures(QUICK_PARALLEL if args.quick else [])
    if not args.skip_backends:
        figures += backends.figures(QUICK_BACKENDS if args.quick else [])[0]
    if not args.skip_remote:
        figures += remote.figures(QUICK_REMOTE if args.quick else [])
    versions = ", ".join(f"{k} {v}" for k, v in tools.versions.items())
    head = header(machine, load_before, started, versions)
    if not full:
        head["mode"] = "DEVELOPMENT RUN (--quick or options): not the benchmark's figures"
    context = [*METHOD, "", "### Every tool, every scenario (median s [reruns] x runs)", ""]
    context += [*res.matrix, *res.context]
    text = render(figures, context, head)
    out = RESULTS if full else RESULTS.parent / ".work" / "RESULTS-quick.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print("\n".join(table(figures)))
    print(f"\nwrote {out}", file=sys.stderr)
    return 0 if all(f.passed is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
