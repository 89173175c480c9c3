"""Backend benchmark: per-step overhead of the docker and dask backends over local.

    python bench/backends.py [--steps 20] [--repeats 3] [--skip-docker] [--skip-dask]

The workload is a chain of ``--steps`` python steps (bench/_workloads.py, as in
bench/pipelines.py: each step has its own code folder and parameter) on 1 KiB of data.
Every measured run is cold: a fresh workspace, so a fresh store and nothing to reuse. One
unmeasured warm-up run per backend comes first (dask workers import amlrun on their first
task, docker pages the image in);
then the median of ``--repeats`` runs of the whole ``amlrun run`` command is kept, and
per-step seconds are that wall time divided by the number of steps.

The script starts what it measures and stops it at the end: an isolated Docker engine
(``.ci/docker-engine.sh start`` and ``image``, in ``$AMLRUN_DOCKER_ROOT``, by default its
own folder so as not to share an engine with test sessions; an engine already running
there is used and left running) and a Dask scheduler with two single-threaded workers on
127.0.0.1, started and stopped as the tests do (tests/fixtures/processes.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.fixtures.processes
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import Figure, failed_figure, table
from _spellings import write_amlrun
from _workloads import DATA, FINAL, make_workload, write_sources

from tests.fixtures.processes import dask_cluster

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / ".ci" / "docker-engine.sh"
IMAGE = "amlrun-test-python:bookworm"
DOCKER_ROOT = "/tmp/amlrun-bench-docker"
WORKERS = 2
RUN_TIMEOUT_S = 600.0
DATA_KIB = 1

# goals from the issue: overhead per step over the local backend
GOALS = {"docker": 0.6, "dask": 0.100}


@dataclass
class Result:
    backend: str
    seconds: list[float]  # wall time of each measured run
    step_s: float  # mean of the steps' own durations (from --json), last run
    error: str = ""

    @property
    def wall(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- engines


@contextlib.contextmanager
def docker_engine() -> Iterator[str]:
    """An engine with the test image; stopped at the end if this script started it."""
    env = {**os.environ, "AMLRUN_DOCKER_ROOT": os.environ.get("AMLRUN_DOCKER_ROOT", DOCKER_ROOT)}
    env.pop("DOCKER_HOST", None)
    start = subprocess.run(
        ["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=300
    )
    if start.returncode != 0:
        raise RuntimeError(f"docker-engine.sh start failed:\n{start.stderr.strip()}")
    host = next(
        ln.split("=", 1)[1] for ln in start.stdout.splitlines() if ln.startswith("DOCKER_HOST=")
    )
    started = "already running" not in start.stderr
    log(f"docker engine at {host} ({'started' if started else 'already running'})")
    try:
        image = subprocess.run(
            ["bash", str(SCRIPT), "image"],
            env={**env, "DOCKER_HOST": host},
            capture_output=True,
            text=True,
            timeout=900,
        )
        if image.returncode != 0:
            raise RuntimeError(f"docker-engine.sh image failed:\n{image.stderr.strip()}")
        yield host
    finally:
        if started:
            subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, timeout=120)
            log("docker engine stopped")


# ---------------------------------------------------------------------- runs


def cold_run(root: Path, steps: int, backend: str, config: str) -> tuple[float, float, str]:
    """One cold run in a fresh workspace: (wall seconds, mean step seconds, final output)."""
    ws = Path(tempfile.mkdtemp(prefix=f"{backend}-", dir=root))
    (ws / ".git").mkdir()
    (ws / ".amlrun").mkdir()
    (ws / ".amlrun" / "config.yaml").write_text(config)
    workload = make_workload("chain", steps, data_kib=DATA_KIB)
    write_sources(workload, ws)
    pipeline = write_amlrun(workload, ws)
    final = ws / "final"
    argv = [sys.executable, "-c", "from amlrun.cli.main import main; main()", "run"]
    argv += [str(pipeline), "--backend", backend, "--json", "--output", f"{FINAL}={final}"]
    env = {**os.environ, "AMLRUN_WORKSPACE": str(ws)}
    started = time.perf_counter()
    proc = subprocess.run(
        argv, cwd=ws, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    wall = time.perf_counter() - started
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{backend} run failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    result = json.loads(lines[-1])
    ran = [s for s in result["steps"] if s["status"] == "ran"]
    if len(ran) != steps:
        raise RuntimeError(f"{backend}: {len(ran)} of {steps} steps ran: {result['steps']}")
    mean_step = statistics.fmean(s["duration_s"] for s in ran)
    output = (final / DATA).read_bytes().hex()
    shutil.rmtree(ws, ignore_errors=True)
    return wall, mean_step, output


def measure(root: Path, steps: int, repeats: int, backend: str, config: str) -> Result:
    log(f"{backend}: warm-up run")
    _, _, expected = cold_run(root, steps, backend, config)
    seconds, step_s = [], 0.0
    for i in range(repeats):
        wall, step_s, output = cold_run(root, steps, backend, config)
        if output != expected:
            raise RuntimeError(f"{backend}: run {i} produced {output!r}, not {expected!r}")
        seconds.append(wall)
        log(f"{backend}: run {i + 1}/{repeats}: {wall:.2f} s")
    return Result(backend, seconds, step_s)


def measure_on(backend: str, root: Path, args: argparse.Namespace) -> Result:
    """Start the backend's engine, measure, stop it; a failure is reported, not raised."""
    try:
        if backend == "local":
            return measure(root, args.steps, args.repeats, backend, "{}\n")
        if backend == "docker":
            with docker_engine() as host:
                config = f"backends: {{docker: {{host: '{host}', default_image: '{IMAGE}'}}}}\n"
                return measure(root, args.steps, args.repeats, backend, config)
        with dask_cluster(root / "dask", WORKERS) as address:
            config = f"backends: {{dask: {{scheduler: '{address}'}}}}\n"
            return measure(root, args.steps, args.repeats, backend, config)
    except Exception as exc:  # say what stopped it and measure the rest
        log(f"{backend}: {exc}")
        return Result(backend, [], 0.0, str(exc))


def to_figures(results: list[Result], steps: int) -> list[Figure]:
    """Each backend's overhead per step over the local backend, against its goal."""
    local = results[0]
    figs = []
    for r in results[1:]:
        title = f"{r.backend} backend, {steps}-step chain: overhead per step over local"
        target = f"<= {GOALS[r.backend]:g} s/step"
        if r.error or local.error:
            figs.append(failed_figure(title, target, (r.error or local.error).splitlines()[0]))
            continue
        over = (r.wall - local.wall) / steps
        figs.append(
            Figure(
                title,
                f"{over:.3f} s/step (run {r.wall:.2f} s, steps' own {r.step_s:.3f} s each)",
                f"local {local.wall:.2f} s",
                r.wall / local.wall,
                target,
                over <= GOALS[r.backend],
            )
        )
    return figs


def figures(argv: list[str] | None = None) -> tuple[list[Figure], list[dict]]:
    """Measure local, docker and dask: the figures, and every run for --json."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3, help="measured cold runs per backend")
    ap.add_argument("--skip-docker", action="store_true")
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="amlrun-bench-backends-"))
    try:
        results = [measure_on("local", root, args)]
        wanted = [b for b in ("docker", "dask") if not getattr(args, f"skip_{b}")]
        results += [measure_on(b, root, args) for b in wanted]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return to_figures(results, args.steps), [{**vars(r), "wall": r.wall} for r in results]


def main() -> int:
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args, rest = ap.parse_known_args()
    figs, rows = figures(rest)
    print("\n".join(table(figs)))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0 if all(f.passed for f in figs) else 1


if __name__ == "__main__":
    sys.exit(main())
