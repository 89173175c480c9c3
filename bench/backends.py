"""Backend benchmark: per-step overhead of the docker and dask backends over local.

    python bench/backends.py [--steps 20] [--repeats 3] [--skip-docker] [--skip-dask]

The workload is a chain of ``--steps`` tiny shell steps (bench/_workloads.py, the same as
bench/pipelines.py) in a generated v2 pipeline. Every measured run is cold: a fresh
workspace, so a fresh store and nothing to reuse. One unmeasured warm-up run per backend
comes first (dask workers import amlrun on their first task, docker pages the image in);
then the median of ``--repeats`` runs of the whole ``amlrun run`` command is kept, and
per-step seconds are that wall time divided by the number of steps.

The script starts what it measures and stops it at the end: an isolated Docker engine
(``.ci/docker-engine.sh start`` and ``image``, in ``$AMLRUN_DOCKER_ROOT``, by default its
own folder so as not to share an engine with test sessions; an engine already running
there is used and left running) and a Dask scheduler with two single-threaded workers on
127.0.0.1 (workers are stopped before the scheduler).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workloads import FILE, FINAL, make_workload, write_amlrun

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / ".ci" / "docker-engine.sh"
IMAGE = "amlrun-test-python:bookworm"
DOCKER_ROOT = "/tmp/amlrun-bench-docker"
WORKERS = 2
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
RUN_TIMEOUT_S = 600.0

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


@contextlib.contextmanager
def dask_cluster(logs: Path) -> Iterator[str]:
    """A scheduler and two single-threaded workers on 127.0.0.1; workers stop first."""
    dask = Path(sys.executable).parent / "dask"
    if not dask.exists():
        raise RuntimeError(f"the dask CLI is not installed next to {sys.executable}")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    paths = [str(REPO), str(REPO / "plugins" / "dask"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}
    board = ["--dashboard-address", "127.0.0.1:0"]
    logs.mkdir(parents=True, exist_ok=True)
    scheduler = _spawn(
        [str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port), *board],
        logs / "scheduler.log",
        env,
    )
    workers: list[subprocess.Popen] = []
    try:
        for i in range(WORKERS):
            argv = [str(dask), "worker", address, "--host", "127.0.0.1", "--nthreads", "1"]
            argv += ["--local-directory", str(logs / f"worker{i}"), *board]
            workers.append(_spawn(argv, logs / f"worker{i}.log", env))
        from distributed import Client

        with Client(address, timeout=START_TIMEOUT_S, set_as_default=False) as client:
            client.wait_for_workers(WORKERS, timeout=START_TIMEOUT_S)
        log(f"dask scheduler at {address} with {WORKERS} workers")
        yield address
    finally:
        _stop(workers)
        _stop([scheduler])
        log("dask cluster stopped")


def _spawn(argv: list[str], log_file: Path, env: dict[str, str]) -> subprocess.Popen:
    with open(log_file, "wb") as out:  # own session: the nanny's children die with the group
        return subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def _stop(processes: list[subprocess.Popen]) -> None:
    for proc in processes:
        if proc.poll() is None:
            proc.terminate()
    for proc in processes:
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


# ---------------------------------------------------------------------- runs


def cold_run(root: Path, steps: int, backend: str, config: str) -> tuple[float, float, str]:
    """One cold run in a fresh workspace: (wall seconds, mean step seconds, final output)."""
    ws = Path(tempfile.mkdtemp(prefix=f"{backend}-", dir=root))
    (ws / ".git").mkdir()
    (ws / ".amlrun").mkdir()
    (ws / ".amlrun" / "config.yaml").write_text(config)
    pipeline = write_amlrun(make_workload("chain", steps), ws)
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
    output = (final / FILE).read_text()
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
        if backend == "docker":
            with docker_engine() as host:
                config = f"backends: {{docker: {{host: '{host}', default_image: '{IMAGE}'}}}}\n"
                return measure(root, args.steps, args.repeats, backend, config)
        with dask_cluster(root / "dask") as address:
            config = f"backends: {{dask: {{scheduler: '{address}'}}}}\n"
            return measure(root, args.steps, args.repeats, backend, config)
    except Exception as exc:  # say what stopped it and measure the rest
        log(f"{backend}: {exc}")
        return Result(backend, [], 0.0, str(exc))


def report(results: list[Result], steps: int) -> bool:
    """Print the table; True when every measured backend meets its goal."""
    local = next(r for r in results if r.backend == "local")
    print(f"\ncold runs of a {steps}-step chain, median wall time of the whole `amlrun run`")
    print(f"{'backend':8} {'run s':>8} {'s/step':>8} {'step s':>8} {'overhead/step':>14}  goal")
    ok = True
    for r in results:
        if r.error:
            print(f"{r.backend:8} not measured: {r.error.splitlines()[0]}")
            ok = False
            continue
        per_step = r.wall / steps
        line = f"{r.backend:8} {r.wall:8.2f} {per_step:8.3f} {r.step_s:8.3f}"
        if r.backend == "local":
            print(line)
            continue
        over = (r.wall - local.wall) / steps
        goal = GOALS[r.backend]
        met = over <= goal
        ok &= met
        print(f"{line} {over:14.3f}  <= {goal:g} s: {'met' if met else 'MISSED'}")
    print("s/step: run wall time / steps; step s: mean of the steps' own durations (--json)")
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3, help="measured cold runs per backend")
    ap.add_argument("--skip-docker", action="store_true")
    ap.add_argument("--skip-dask", action="store_true")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="amlrun-bench-backends-"))
    results = [measure(root, args.steps, args.repeats, "local", "{}\n")]
    if not args.skip_docker:
        results.append(measure_on("docker", root, args))
    if not args.skip_dask:
        results.append(measure_on("dask", root, args))
    shutil.rmtree(root, ignore_errors=True)
    ok = report(results, args.steps)
    if args.json:
        rows = [{**vars(r), "wall": r.wall} for r in results]
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
