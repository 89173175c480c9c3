"""Parallel-step benchmark: a v2 parallel node over many small files, mini_batch_size 20.

    python bench/parallel.py [--files 2000] [--batch 20] [--workers 2] [--repeats 3]

Measured from outside as new processes (start-up included), median of ``--repeats``:
- cold: ``amlrun run`` in a fresh workspace, against a plain Python loop (one process)
  that imports the same entry script, calls init() once and run() over the same
  mini-batches (goal: at most 1.3x with 2 workers);
- add one file: the rerun after one new input file, against the plain loop over that one
  mini-batch (goal: one mini-batch reruns, at most 0.5 s more; the note splits the
  difference into the null rerun's fixed cost and the rest);
- null rerun: nothing changed.
run() does about 2 ms of CPU work per file, so the loop is dominated by the entry script.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import Figure, table

SCORE = """
import hashlib

def init():
    global SALT
    SALT = b"bench"

def run(mini_batch):
    out = []
    for path in mini_batch:
        with open(path, "rb") as f:
            data = SALT + f.read()
        for _ in range(2000):  # about 2 ms of work per file
            data = hashlib.sha256(data).digest()
        out.append(f"{path.rsplit('/', 1)[-1]} {data.hex()[:12]}")
    return out
"""

PIPELINE = """
type: pipeline
jobs:
  score:
    type: parallel
    inputs:
      data: {{type: uri_folder, path: ./data}}
    outputs:
      out: {{type: uri_file}}
    input_data: ${{{{inputs.data}}}}
    mini_batch_size: "{batch}"
    max_concurrency_per_instance: {workers}
    task:
      type: run_function
      code: ./src
      entry_script: score.py
      append_row_to: ${{{{outputs.out}}}}
"""

LOOP = """
import sys, json, importlib.util
spec = importlib.util.spec_from_file_location("score", sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
m.init()
rows = 0
for batch in json.load(open(sys.argv[2])):
    rows += len(m.run(batch))
print(rows)
"""


def _workspace(root: Path, files: int, batch: int, workers: int) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "src").mkdir()
    for i in range(files):
        (root / "data" / f"f{i:05d}.txt").write_text(f"file {i}\n")
    (root / "src" / "score.py").write_text(SCORE)
    (root / "pipeline.yml").write_text(PIPELINE.format(batch=batch, workers=workers))
    return root


def _amlrun(ws: Path) -> tuple[float, dict]:
    cmd = [sys.executable, "-c", "from amlrun.cli.main import main; main()"]
    env = {**os.environ, "AMLRUN_WORKSPACE": str(ws)}
    start = time.perf_counter()
    proc = subprocess.run(
        [*cmd, "run", "pipeline.yml", "--json"], cwd=ws, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"amlrun failed:\n{proc.stdout}\n{proc.stderr}")
    return seconds, json.loads(lines[-1])["steps"][0]


def _loop(ws: Path, batches: list[list[str]]) -> float:
    plan = ws / "batches.json"
    plan.write_text(json.dumps([[str(ws / "data" / p) for p in b] for b in batches]))
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", LOOP, str(ws / "src" / "score.py"), str(plan)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - start


def _batches(ws: Path, batch: int) -> list[list[str]]:
    from amlrun.parallel.batching import Item, batches

    names = sorted(p.name for p in (ws / "data").iterdir())
    return [[it.name for it in g] for g in batches([Item(n, "") for n in names], batch)]


def measure(args: argparse.Namespace) -> dict[str, float]:
    cold, loop, add, one, null, reran = [], [], [], [], [], []
    for _ in range(args.repeats):
        root = Path(tempfile.mkdtemp(prefix="amlrun-bench-parallel-"))
        try:
            ws = _workspace(root, args.files, args.batch, args.workers)
            loop.append(_loop(ws, _batches(ws, args.batch)))
            cold.append(_amlrun(ws)[0])
            before = {tuple(b) for b in _batches(ws, args.batch)}
            (ws / "data" / f"f{args.files // 2:05d}a.txt").write_text("one more\n")
            changed = [b for b in _batches(ws, args.batch) if tuple(b) not in before]
            one.append(_loop(ws, changed))
            seconds, step = _amlrun(ws)
            add.append(seconds)
            reran.append(float(step["reason"].split(" ran)")[0].rsplit(", ", 1)[-1]))
            null.append(_amlrun(ws)[0])
        finally:
            shutil.rmtree(root, ignore_errors=True)
    med = statistics.median
    return {
        "cold": med(cold),
        "loop": med(loop),
        "add": med(add),
        "one": med(one),
        "null": med(null),
        "reran": max(reran),
    }


def figures(argv: list[str] | None = None) -> list[Figure]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    m = measure(args)
    n = f"{args.files:,} files, mini_batch_size {args.batch}"
    ratio = m["cold"] / m["loop"]
    overhead = m["add"] - m["one"]
    return [
        Figure(
            f"parallel cold run ({n}, {args.workers} workers)",
            f"{m['cold']:.2f} s",
            f"plain loop {m['loop']:.2f} s",
            ratio,
            "<= 1.3x",
            ratio <= 1.3,
        ),
        Figure(
            "parallel rerun after adding one file",
            f"{m['add']:.2f} s, {m['reran']:.0f} mini-batch(es) ran",
            f"loop over that batch {m['one']:.2f} s",
            None,
            "1 batch, <= 0.5 s over",
            m["reran"] == 1 and overhead <= 0.5,
            f"overhead {overhead:.2f} s: the null rerun's {m['null']:.2f} s (start-up, "
            "environment identity; every run pays it), then "
            f"{overhead - m['null']:.2f} s for doit, the worker process and the gather",
        ),
        Figure("parallel null rerun", f"{m['null']:.2f} s", "", None, "", None),
    ]


if __name__ == "__main__":
    figs = figures(sys.argv[1:])
    print("\n".join(table(figs)))
    sys.exit(0 if all(f.passed is not False for f in figs) else 1)
