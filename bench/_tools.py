"""The tools under test, each driven through its own command line on one folder.

Every run is a fresh process timed from outside (start-up included); its peak RSS comes
from ``wait4``. Every tool finds ``python`` first on PATH in the bench's interpreter folder,
the interpreter amlrun's local backend runs ``python`` with, so the commands are identical.
Snakemake and DVC live in bench/.work/venv (bench/_install.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _spellings import write_amlrun, write_bash, write_doit, write_dvc, write_snakemake
from _workloads import DATA, FINAL, OUT, Workload, write_sources

BIN = Path(sys.executable).parent
#: every tool runs as on a user's machine: bytecode caching on (a sandbox may set
#: PYTHONDONTWRITEBYTECODE, which makes an editable install recompile itself on every start
#: while pip-installed tools keep their .pyc files: an unfair start-up tax on one tool)
ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
}


@dataclass(frozen=True)
class Measure:
    seconds: float
    rss_mb: float
    ok: bool
    executed: int | None = None  # steps the tool says it ran (None: it does not say)
    ran: tuple[str, ...] | None = None  # which ones, where the tool says (amlrun)
    note: str = ""


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[Measure, str]:
    """Run ``argv``: its measure (wall time, peak RSS, exit 0) and its stdout + stderr."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env or ENV, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode(errors="replace")
    ok = os.waitstatus_to_exitcode(status) == 0
    note = "" if ok else (text.strip().splitlines() or ["failed"])[-1][:200]
    return Measure(seconds, usage.ru_maxrss / 1024, ok, note=note), text


def _counted(m: Measure, executed: int) -> Measure:
    return Measure(m.seconds, m.rss_mb, m.ok, executed, m.ran, m.note)


class Tool:
    """A tool's way of defining, running and cleaning a workload in its folder."""

    name = ""

    def prepare(self, w: Workload, folder: Path) -> None:
        """A fresh folder: sources, the tool's definition, its own init."""
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        write_sources(w, folder)
        self.define(w, folder)

    def define(self, w: Workload, folder: Path) -> None:
        """(Re)write the tool's definition of ``w``: every tool rereads it on each run."""
        raise NotImplementedError

    def run(self, folder: Path, jobs: int = 1) -> Measure:
        raise NotImplementedError

    def delete_outputs(self, folder: Path) -> None:
        shutil.rmtree(folder / OUT, ignore_errors=True)

    def final_output(self, w: Workload, folder: Path) -> Path:
        return folder / OUT / w.final.name / DATA


class Bash(Tool):
    name = "bash"

    def define(self, w: Workload, folder: Path) -> None:
        write_bash(w.steps, folder)

    def run(self, folder: Path, jobs: int = 1) -> Measure:
        """Runs every command of run.sh (its first line is ``set -e``)."""
        m, _ = timed(["bash", "run.sh"], folder)
        return _counted(m, len((folder / "run.sh").read_text().splitlines()) - 1)


class Amlrun(Tool):
    name = "amlrun"

    def prepare(self, w: Workload, folder: Path) -> None:
        super().prepare(w, folder)
        (folder / ".amlrun").mkdir()

    def define(self, w: Workload, folder: Path) -> None:
        write_amlrun(w, folder)

    def run(self, folder: Path, jobs: int = 1) -> Measure:
        argv = [str(BIN / "amlrun"), "run", "pipeline.yml", "--json", "-j", str(jobs)]
        argv += ["--output", f"{FINAL}=results/{FINAL}"]
        m, text = timed(argv, folder, {**ENV, "AMLRUN_WORKSPACE": str(folder)})
        doc = next((json.loads(ln) for ln in text.splitlines() if ln.startswith("{")), None)
        if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list):
            return Measure(m.seconds, m.rss_mb, False, note=m.note or "no --json result")
        steps = doc["steps"]
        ran = tuple(s["name"] for s in steps if s.get("status") == "ran")
        bad = [s for s in steps if s.get("status") not in ("ran", "reused")]
        note = f"{bad[0]['name']}: {bad[0]['status']} {bad[0].get('reason')}" if bad else m.note
        return Measure(m.seconds, m.rss_mb, m.ok and not bad, len(ran), ran, note)

    def delete_outputs(self, folder: Path) -> None:
        """What a user can delete: the materialized outputs, not the store."""
        shutil.rmtree(folder / ".amlrun" / "out", ignore_errors=True)
        shutil.rmtree(folder / "results", ignore_errors=True)

    def final_output(self, w: Workload, folder: Path) -> Path:
        return folder / "results" / FINAL / DATA


class Doit(Tool):
    name = "doit"

    def define(self, w: Workload, folder: Path) -> None:
        write_doit(w, folder)

    def run(self, folder: Path, jobs: int = 1) -> Measure:
        m, text = timed([str(BIN / "doit"), "-f", "dodo.py", "-n", str(jobs)], folder)
        return _counted(m, sum(1 for ln in text.splitlines() if ln.startswith(". ")))


class Snakemake(Tool):
    name = "snakemake"

    def __init__(self, exe: Path) -> None:
        self.exe = exe

    def define(self, w: Workload, folder: Path) -> None:
        write_snakemake(w, folder)

    def run(self, folder: Path, jobs: int = 1) -> Measure:
        m, text = timed([str(self.exe), "--cores", str(jobs), "--snakefile", "Snakefile"], folder)
        rules = ("rule step:", "localrule step:")
        return _counted(m, sum(1 for ln in text.splitlines() if ln.strip() in rules))


class Dvc(Tool):
    name = "dvc"
    ENV = {**ENV, "DVC_NO_ANALYTICS": "1", "DVC_IGNORE_ISATTY": "true"}

    def __init__(self, exe: Path) -> None:
        self.exe = exe

    def prepare(self, w: Workload, folder: Path) -> None:
        super().prepare(w, folder)
        m, text = timed([str(self.exe), "init", "--no-scm", "-q"], folder, self.ENV)
        if not m.ok:
            raise RuntimeError(f"dvc init failed: {text.strip()[-300:]}")

    def define(self, w: Workload, folder: Path) -> None:
        write_dvc(w, folder)

    def run(self, folder: Path, jobs: int = 1) -> Measure:
        m, text = timed([str(self.exe), "repro"], folder, self.ENV)
        return _counted(m, text.count("Running stage"))


@dataclass
class Tools:
    """The tools of one bench run, and why any baseline is missing."""

    available: list[Tool]
    missing: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> Tool | None:
        return next((t for t in self.available if t.name == name), None)
