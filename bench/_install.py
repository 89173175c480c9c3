"""The baseline tools: doit from amlrun's own environment; Snakemake and DVC installed by
the bench into bench/.work/venv on first use (pip, from PyPI). A tool that will not install
is reported as missing, with pip's reason, and the bench goes on without it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _tools import BIN, Amlrun, Bash, Doit, Dvc, Snakemake, Tool, Tools

VENV = Path(__file__).resolve().parent / ".work" / "venv"
PACKAGES = {"snakemake": "snakemake", "dvc": "dvc"}  # command -> PyPI package
INSTALL_TIMEOUT_S = 1800


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _version(argv: list[str]) -> str | None:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (proc.stdout or proc.stderr).split(" (")[0].strip().splitlines()
    return lines[0].split()[-1] if proc.returncode == 0 and lines else None


def _pip_install(packages: list[str]) -> str:
    """Install ``packages`` into the bench venv; '' on success, else pip's error lines."""
    try:
        if not (VENV / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        argv = [str(VENV / "bin" / "python"), "-m", "pip", "install", "-q", *packages]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"could not install {packages}: {exc}"
    if proc.returncode == 0:
        return ""
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("ERROR")]
    return "; ".join(errors)[-400:] or proc.stderr.strip()[-400:]


def baseline_tools(skip: set[str]) -> Tools:
    """bash, amlrun and doit always; Snakemake and DVC unless skipped or not installable."""
    tools = Tools([Bash(), Amlrun(), Doit()])
    tools.versions["amlrun"] = _version([str(BIN / "amlrun"), "--version"]) or "?"
    tools.versions["doit"] = _version([str(BIN / "doit"), "--version"]) or "?"
    tools.versions["bash"] = _version(["bash", "--version"]) or "?"
    wanted = [cmd for cmd in PACKAGES if cmd not in skip]
    absent = [cmd for cmd in wanted if not (VENV / "bin" / cmd).exists()]
    error = ""
    if absent:
        _log(f"installing {', '.join(absent)} into {VENV} (once) ...")
        error = _pip_install([PACKAGES[cmd] for cmd in absent])
    made: dict[str, type[Tool]] = {"snakemake": Snakemake, "dvc": Dvc}
    for cmd in PACKAGES:
        exe = VENV / "bin" / cmd
        version = _version([str(exe), "--version"]) if exe.exists() else None
        if cmd in skip:
            tools.missing[cmd] = "skipped (--skip)"
        elif version is None:
            tools.missing[cmd] = f"not installed: {error or f'{exe} --version failed'}"
        else:
            tools.available.append(made[cmd](exe))  # type: ignore[call-arg]
            tools.versions[cmd] = version
    for cmd, why in tools.missing.items():
        _log(f"{cmd}: {why}; continuing without it")
    return tools
