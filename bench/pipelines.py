"""Pipeline benchmark: amlrun against DVC and doit on identical generated workloads.

    python bench/pipelines.py [--sizes 10,100,500] [--big 10000] [--skip-dvc] [--quick]

Workloads are chains and fan-outs ("wide") of N tiny shell steps; every tool runs the same
commands (bench/_workloads.py). For each workload and tool it measures a cold run, a null
rerun, a rerun after editing the middle step's command, and a rerun after deleting the
outputs (amlrun: ``.amlrun/out`` and the materialized pipeline output, not the cache).
It also measures an amlrun null run of ``--big`` steps (time and peak RSS), amlrun's cold
overhead per step over a bash script running the same commands, and a wide pipeline with
``-j 2`` against ``-j 1``. Above ``--dvc-full-max`` steps, DVC's cold state is
bootstrapped (bash + ``dvc commit``) and only its null rerun is timed: ``dvc repro`` slows
down with every stage (500 chained stages take hours). DVC is installed into
bench/.work/venv on first use; if that fails the reason is printed and the rest goes on.
Work folders live in $TMPDIR.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _workloads import (
    FILE,
    FINAL,
    OUT,
    Workload,
    make_workload,
    write_amlrun,
    write_bash,
    write_doit,
    write_dvc,
)

BENCH = Path(__file__).resolve().parent
VENV = BENCH / ".work" / "venv"
BIN = Path(sys.executable).parent

# targets from the issue
NULL_VS_DVC = 20.0  # null rerun of 500 steps at least this many times faster than dvc repro
NULL_MS_PER_STEP = 1.0
BIG_NULL_S, BIG_RSS_MB = 2.0, 500.0
COLD_OVERHEAD_MS = 15.0
PARALLEL_RATIO = 0.6


@dataclass
class Measure:
    seconds: float
    rss_mb: float
    executed: int | None  # steps the tool reports it ran (None: not known)
    ok: bool
    note: str = ""


@dataclass
class Row:
    workload: str
    tool: str
    steps: int
    cold: Measure | None = None
    null: Measure | None = None
    edit: Measure | None = None
    restore: Measure | None = None
    final_output: str | None = field(default=None, repr=False)
    error: str | None = None


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------- running commands


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[Measure, str]:
    """Run ``cmd``; wall time, the child's peak RSS (wait4) and its output (stdout first)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode(errors="replace") + err.read().decode(errors="replace")
    return Measure(seconds, usage.ru_maxrss / 1024, None, proc.returncode == 0), text


def json_line(text: str) -> dict | None:
    """The first line of ``text`` that is a JSON object."""
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


class Tool:
    name = ""

    def setup(self, w: Workload, folder: Path) -> None:
        raise NotImplementedError

    def run(self, folder: Path) -> Measure:
        raise NotImplementedError

    def edit(self, w: Workload, folder: Path) -> None:
        """Rewrite the definition with the middle step edited (tools reread it on each run)."""
        self.setup_files(w.edited(), folder)

    def setup_files(self, w: Workload, folder: Path) -> None:
        raise NotImplementedError

    def delete_outputs(self, folder: Path) -> None:
        shutil.rmtree(folder / OUT, ignore_errors=True)

    def final_output(self, w: Workload, folder: Path) -> Path:
        return folder / OUT / w.final.name / FILE


def _fail(m: Measure, text: str) -> Measure:
    if not m.ok:
        m.note = text.strip().splitlines()[-1][:200] if text.strip() else "failed"
    return m


class Amlrun(Tool):
    name = "amlrun"

    def __init__(self, jobs: int = 1) -> None:
        exe = BIN / "amlrun"
        self.cmd = (
            [str(exe)]
            if exe.exists()
            else [sys.executable, "-c", "from amlrun.cli.main import main; main()"]
        )
        self.jobs = jobs

    def setup_files(self, w: Workload, folder: Path) -> None:
        write_amlrun(w, folder)

    def setup(self, w: Workload, folder: Path) -> None:
        (folder / ".amlrun").mkdir(parents=True, exist_ok=True)
        self.setup_files(w, folder)

    def run(self, folder: Path) -> Measure:
        env = {**os.environ, "AMLRUN_WORKSPACE": str(folder)}
        cmd = [
            *self.cmd,
            "run",
            "pipeline.yml",
            "--json",
            "-j",
            str(self.jobs),
            "--output",
            f"{FINAL}=results/{FINAL}",
        ]
        m, text = timed(cmd, folder, env)
        doc = json_line(text)
        if doc is not None and isinstance(doc.get("steps"), list):
            m.executed = sum(1 for s in doc["steps"] if s.get("status") == "ran")
            bad = [s for s in doc["steps"] if s.get("status") not in ("ran", "reused")]
            if bad:
                m.ok, m.note = False, f"{bad[0]['name']}: {bad[0]['status']} {bad[0].get('reason')}"
        return _fail(m, text)

    def delete_outputs(self, folder: Path) -> None:
        shutil.rmtree(folder / ".amlrun" / "out", ignore_errors=True)
        shutil.rmtree(folder / "results", ignore_errors=True)

    def final_output(self, w: Workload, folder: Path) -> Path:
        return folder / "results" / FINAL / FILE


class Dvc(Tool):
    name = "dvc"

    def __init__(self, exe: Path) -> None:
        self.exe = exe
        self.env = {**os.environ, "DVC_NO_ANALYTICS": "1", "DVC_IGNORE_ISATTY": "true"}

    def setup_files(self, w: Workload, folder: Path) -> None:
        write_dvc(w, folder)

    def setup(self, w: Workload, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [str(self.exe), "init", "--no-scm", "-q"],
            cwd=folder,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"dvc init failed: {proc.stderr.strip()[-300:]}")
        self.setup_files(w, folder)

    def run(self, folder: Path) -> Measure:
        m, text = timed([str(self.exe), "repro"], folder, self.env)
        m.executed = text.count("Running stage")
        return _fail(m, text)

    def bootstrap(self, w: Workload, folder: Path) -> Measure:
        """The state after a cold ``dvc repro``, reached quickly: the bash script makes the
        outputs, ``dvc commit`` records them (``dvc repro`` slows down with every stage
        of a long pipeline: 500 stages take hours)."""
        write_bash(w, folder)
        m, text = timed(["bash", "run.sh"], folder)
        if not m.ok:
            return _fail(m, text)
        c, text = timed([str(self.exe), "commit", "-f", "-q"], folder, self.env)
        c.note = "bootstrapped: bash run.sh + dvc commit"
        return _fail(c, text)


class Doit(Tool):
    name = "doit"

    def __init__(self) -> None:
        exe = BIN / "doit"
        self.cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "doit"]

    def setup_files(self, w: Workload, folder: Path) -> None:
        write_doit(w, folder)

    def setup(self, w: Workload, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.setup_files(w, folder)

    def run(self, folder: Path) -> Measure:
        m, text = timed([*self.cmd, "-f", "dodo.py"], folder)
        m.executed = sum(1 for ln in text.splitlines() if ln.startswith(". "))
        return _fail(m, text)


# ---------------------------------------------------------------------- DVC install


def ensure_dvc() -> tuple[Path | None, str]:
    """dvc in bench/.work/venv (installed on first use); (None, why) when unavailable."""
    exe = VENV / "bin" / "dvc"
    if not exe.exists():
        log(f"installing DVC into {VENV} (once) ...")
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", str(VENV)],
                check=True,
                capture_output=True,
                text=True,
            )
            proc = subprocess.run(
                [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", "dvc"],
                capture_output=True,
                text=True,
                timeout=1800,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            return None, f"could not create the venv: {exc}"
        if proc.returncode != 0 or not exe.exists():
            errors = [ln for ln in proc.stderr.splitlines() if "ERROR" in ln] or [
                proc.stderr[-300:]
            ]
            return None, "pip install dvc failed: " + " | ".join(errors)[-400:]
    proc = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    if proc.returncode != 0:
        return None, f"dvc --version failed: {proc.stderr.strip()[-300:]}"
    return exe, proc.stdout.strip()


# ---------------------------------------------------------------------- scenarios


def best(run: Callable[[], Measure], repeats: int) -> Measure:
    results = [run() for _ in range(repeats)]
    return min(results, key=lambda m: (not m.ok, m.seconds))


def bench_tool(tool: Tool, w: Workload, root: Path, repeats: int, dvc_full_max: int) -> Row:
    """Cold, null (best of ``repeats``), edit and restore runs of one tool on one workload.

    DVC beyond ``dvc_full_max`` steps is bootstrapped instead of run cold, and only its null
    rerun is measured.
    """
    folder = root / w.name / tool.name
    row = Row(w.name, tool.name, len(w.steps))
    partial = isinstance(tool, Dvc) and len(w.steps) > dvc_full_max
    try:
        tool.setup(w, folder)
        log(f"  {w.name:>12} {tool.name:7} {'bootstrap' if partial else 'cold'} ...")
        row.cold = (
            tool.bootstrap(w, folder) if isinstance(tool, Dvc) and partial else tool.run(folder)
        )
        if not row.cold.ok:
            row.error = f"cold run failed: {row.cold.note}"
            return row
        row.null = best(lambda: tool.run(folder), repeats)
        if partial:
            row.error = f"cold/edit/restore not run above {dvc_full_max} steps (--dvc-full-max)"
            return row
        tool.edit(w, folder)
        row.edit = tool.run(folder)
        tool.delete_outputs(folder)
        row.restore = tool.run(folder)
        final = tool.final_output(w, folder)
        row.final_output = final.read_text() if final.exists() else None
    except Exception as exc:  # one tool failing must not stop the others
        row.error = f"{type(exc).__name__}: {exc}"
    return row


def bash_floor(w: Workload, root: Path) -> Measure:
    folder = root / w.name / "bash"
    folder.mkdir(parents=True, exist_ok=True)
    write_bash(w, folder)
    m, text = timed(["bash", "run.sh"], folder)
    m.executed = len(w.steps)
    return _fail(m, text)


def big_null(n: int, shape: str, root: Path) -> tuple[Measure | None, Measure | None]:
    """amlrun cold then null run of ``n`` steps: (cold, null)."""
    w = make_workload(shape, n)
    tool = Amlrun()
    folder = root / w.name / "amlrun"
    tool.setup(w, folder)
    log(f"  {w.name:>12} amlrun cold (big) ...")
    cold = tool.run(folder)
    if not cold.ok:
        return cold, None
    log(f"  {w.name:>12} amlrun null (big) ...")
    return cold, best(lambda: tool.run(folder), 2)


def parallel(n: int, sleep_s: float, root: Path) -> dict[int, Measure]:
    """Cold runs of a wide workload with -j 1 and -j 2, each in a fresh folder."""
    w = make_workload("wide", n, sleep_s)
    out = {}
    for jobs in (1, 2):
        tool = Amlrun(jobs)
        folder = root / f"{w.name}-j{jobs}" / "amlrun"
        tool.setup(w, folder)
        log(f"  {w.name:>12} amlrun -j {jobs} ...")
        out[jobs] = tool.run(folder)
    return out


# ---------------------------------------------------------------------- report


def fmt(m: Measure | None) -> str:
    if m is None:
        return "-"
    ran = "" if m.executed is None else f" ({m.executed})"
    if m.note.startswith("bootstrapped"):
        ran = " (boot)"
    return f"{m.seconds:7.2f}{ran}" + ("" if m.ok else " FAIL")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(rows: list[Row], extra: dict, dvc_info: str) -> list[str]:
    lines = [
        f"DVC: {dvc_info}",
        "",
        "seconds (steps executed); null = best of the repeats",
        f"{'workload':>12} {'tool':7} {'cold':>13} {'null':>13} {'edit':>13} "
        f"{'restore':>13} {'null ms/step':>12}",
    ]
    for r in rows:
        if r.error and r.cold is None:
            lines.append(f"{r.workload:>12} {r.tool:7} error: {r.error}")
            continue
        per = f"{r.null.seconds * 1000 / r.steps:12.2f}" if r.null else f"{'-':>12}"
        lines.append(
            f"{r.workload:>12} {r.tool:7} {fmt(r.cold):>13} {fmt(r.null):>13} "
            f"{fmt(r.edit):>13} {fmt(r.restore):>13} {per}"
        )
        if r.error:
            lines.append(f"{'':>12} {'':7} note: {r.error}")
    # same commands, so every tool must end with the same final output
    by_wl: dict[str, dict[str, str | None]] = {}
    for r in rows:
        by_wl.setdefault(r.workload, {})[r.tool] = r.final_output
    for wl, outs in by_wl.items():
        got = {t: o for t, o in outs.items() if o is not None}
        if len(set(got.values())) > 1:
            lines.append(f"WARNING {wl}: final outputs differ between tools: {sorted(got)}")

    lines += ["", "targets"]
    idx = {(r.workload, r.tool): r for r in rows}
    for wl in sorted({r.workload for r in rows if r.steps >= 500}):
        a, d = idx.get((wl, "amlrun")), idx.get((wl, "dvc"))
        if a and a.null and a.null.ok:
            ms = a.null.seconds * 1000 / a.steps
            lines.append(
                f"  {wl} null rerun: {ms:.2f} ms/step (<= {NULL_MS_PER_STEP} ms)"
                f"  {verdict(ms <= NULL_MS_PER_STEP)}"
            )
            if d and d.null and d.null.ok:
                ratio = d.null.seconds / a.null.seconds
                lines.append(
                    f"  {wl} null rerun vs dvc repro: {ratio:.1f}x faster "
                    f"(>= {NULL_VS_DVC:g}x)  {verdict(ratio >= NULL_VS_DVC)}"
                )
    if not any(r.steps >= 500 for r in rows):
        lines.append("  (no 500-step workload in --sizes: null-rerun targets not checked)")
    for wl, (bash, cold, n) in sorted(extra.get("overhead", {}).items()):
        ms = (cold.seconds - bash.seconds) * 1000 / n
        lines.append(
            f"  {wl} cold overhead over bash: {ms:.1f} ms/step "
            f"(bash {bash.seconds:.2f} s, amlrun {cold.seconds:.2f} s; "
            f"<= {COLD_OVERHEAD_MS:g} ms)  {verdict(ms <= COLD_OVERHEAD_MS)}"
        )
    if "big" in extra:
        n, cold, null = extra["big"]
        if null is None:
            lines.append(f"  {n}-step null run: cold run failed: {cold.note if cold else '?'}")
        else:
            ok = null.ok and null.seconds < BIG_NULL_S and null.rss_mb < BIG_RSS_MB
            lines.append(
                f"  {n}-step null run: {null.seconds:.2f} s, peak RSS {null.rss_mb:.0f} MB "
                f"(< {BIG_NULL_S:g} s, < {BIG_RSS_MB:g} MB)  {verdict(ok)}"
                f"   [cold {cold.seconds:.1f} s, {cold.rss_mb:.0f} MB]"
            )
    for label, runs in extra.get("parallel", {}).items():
        j1, j2 = runs[1], runs[2]
        if j1.ok and j2.ok:
            ratio = j2.seconds / j1.seconds
            lines.append(
                f"  {label} -j 2 / -j 1: {j2.seconds:.2f} / {j1.seconds:.2f} s = "
                f"{ratio:.2f} (<= {PARALLEL_RATIO})  {verdict(ratio <= PARALLEL_RATIO)}"
            )
        else:
            lines.append(f"  {label} -j: failed ({j1.note or j2.note})")
    return lines


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,100,500", help="step counts (comma-separated)")
    ap.add_argument("--shapes", default="chain,wide")
    ap.add_argument("--big", type=int, default=10000, help="steps of the big null run (0: skip)")
    ap.add_argument("--big-shape", default="chain", choices=["chain", "wide"])
    ap.add_argument(
        "--parallel",
        default="20:0.2,100:0",
        help="wide N:SLEEP workloads for -j 2 vs -j 1 (empty: skip)",
    )
    ap.add_argument("--repeats", type=int, default=3, help="null reruns (best is kept)")
    ap.add_argument("--skip-dvc", action="store_true")
    ap.add_argument("--skip-doit", action="store_true")
    ap.add_argument(
        "--dvc-full-max",
        type=int,
        default=100,
        help="above this many steps DVC is bootstrapped and only its null rerun is timed",
    )
    ap.add_argument(
        "--quick", action="store_true", help="sizes 10,100, big 1000, one repeat, small -j workload"
    )
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.big, args.repeats, args.parallel = "10,100", 1000, 1, "10:0.2"
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]

    dvc_exe, dvc_info = (None, "skipped (--skip-dvc)") if args.skip_dvc else ensure_dvc()
    if not args.skip_dvc and dvc_exe is None:
        log(f"DVC unavailable, continuing without it: {dvc_info}")
    tools: list[Tool] = [Amlrun()]
    if dvc_exe is not None:
        tools.append(Dvc(dvc_exe))
    if not args.skip_doit:
        tools.append(Doit())

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # kill -TERM: partial report
    root = Path(tempfile.mkdtemp(prefix="amlrun-bench-"))
    log(f"work folder: {root}")
    rows: list[Row] = []
    extra: dict = {"overhead": {}, "parallel": {}}
    try:
        for shape in shapes:
            for n in sizes:
                w = make_workload(shape, n)
                for tool in tools:
                    rows.append(bench_tool(tool, w, root, args.repeats, args.dvc_full_max))
                    r = rows[-1]
                    log(f"  {r.workload:>12} {r.tool:7} cold {fmt(r.cold)}  null {fmt(r.null)}"
                        f"  edit {fmt(r.edit)}  restore {fmt(r.restore)}")  # fmt: skip
                aml = next(r for r in rows if r.workload == w.name and r.tool == "amlrun")
                if shape == "chain" and aml.cold and aml.cold.ok:
                    extra["overhead"][w.name] = (bash_floor(w, root), aml.cold, n)
        for spec in filter(None, args.parallel.split(",")):
            n, _, sleep = spec.partition(":")
            runs = parallel(int(n), float(sleep or 0), root)
            extra["parallel"][f"wide-{n} (sleep {float(sleep or 0):g} s/step)"] = runs
        if args.big:
            cold, null = big_null(args.big, args.big_shape, root)
            extra["big"] = (args.big, cold, null)
    except KeyboardInterrupt:
        log("interrupted: reporting what finished")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    lines = report(rows, extra, dvc_info)
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "rows": [asdict(r) for r in rows],
                    "overhead": {
                        k: [asdict(b), asdict(c), n] for k, (b, c, n) in extra["overhead"].items()
                    },
                    "parallel": {
                        k: {j: asdict(m) for j, m in v.items()}
                        for k, v in extra["parallel"].items()
                    },
                    "big": None
                    if "big" not in extra
                    else [extra["big"][0], *(asdict(m) if m else None for m in extra["big"][1:])],
                    "dvc": dvc_info,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
