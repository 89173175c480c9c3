"""What ``amlrun module register SOURCE`` reads: a spec, a folder, a zip or a Git repository."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from amlrun.errors import SpecError
from amlrun.registry.unpack import check_tree, unpack_zip

SPEC_SUFFIXES = (".yml", ".yaml")
_SKIP_DIRS = {".git", ".amlrun", "__pycache__", "node_modules", ".venv", "venv"}
GIT_TIMEOUT_S = 300


@dataclass(frozen=True)
class GitSource:
    repo: str  # URL or local path, as git understands it
    ref: str | None
    subdir: str


def parse_git(source: str) -> GitSource | None:
    """``git+URL[@ref][#subdir=x]`` or ``PATH@ref`` / ``PATH#subdir=x`` of a local repo."""
    body, _, frag = source.partition("#")
    subdir = frag.removeprefix("subdir=") if frag.startswith("subdir=") else ""
    if frag and not subdir:
        raise SpecError(f"'#{frag}' in {source} is not #subdir=PATH", fix="write #subdir=PATH")
    explicit = body.startswith("git+")
    body = body.removeprefix("git+")
    head, _, last = body.rpartition("/")
    ref = None
    if "@" in last:
        last, _, ref = last.partition("@")
    repo = f"{head}/{last}" if head else last
    if explicit or ((ref or subdir) and Path(repo, ".git").exists()):
        return GitSource(repo, ref or None, subdir)
    return None


def checkout_git(src: GitSource, dest: Path) -> Path:
    """A clone at ``src.ref`` in ``dest``, checked like an archive; returns the subfolder."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    _git(["clone", "--quiet", "--no-checkout", "--", src.repo, str(dest)], env, src.repo)
    _git(
        [
            "-C",
            str(dest),
            "-c",
            "core.symlinks=true",
            "checkout",
            "--quiet",
            src.ref or "HEAD",
            "--",
        ],
        env,
        src.repo,
    )
    check_tree(dest, f"the Git repository {src.repo}")
    sub = dest.joinpath(src.subdir).resolve() if src.subdir else dest
    if not sub.is_relative_to(dest.resolve()) or not sub.is_dir():
        raise SpecError(
            f"#subdir={src.subdir} is not a folder of {src.repo}",
            fix="name a folder inside the repository",
        )
    return sub


def _git(args: list[str], env: dict, repo: str) -> None:
    try:
        proc = subprocess.run(
            ["git", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise SpecError(
            "git is not installed", fix="install git to register from a repository"
        ) from None
    except subprocess.TimeoutExpired:
        raise SpecError(f"git took over {GIT_TIMEOUT_S} s on {repo}") from None
    if proc.returncode != 0:
        msg = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        raise SpecError(
            f"git {args[0] if args[0] != '-C' else args[2]} of {repo}: {msg}",
            fix="check the repository URL and the @ref",
        )


def spec_files(folder: Path) -> list[Path]:
    """Every module spec under ``folder`` (YAML files that load as a module, not pipelines)."""
    from amlrun.spec import yamlio
    from amlrun.spec.detect import kind_of

    found = []
    for parent, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            path = Path(parent, name)
            if not name.endswith(SPEC_SUFFIXES) or path.is_symlink():
                continue
            try:
                if kind_of(yamlio.load(path), path) == "module":
                    found.append(path)
            except SpecError:
                continue  # not YAML we can read: not a spec
    return found


def collect(source: str, scratch: Path) -> tuple[list[Path], str]:
    """The spec files ``source`` names (unpacked under ``scratch``), and how to describe it."""
    if (git := parse_git(source)) is not None:
        return spec_files(checkout_git(git, scratch / "git")), source
    path = Path(source)
    if not path.exists():
        raise SpecError(
            f"{source} does not exist", fix="give a spec file, a folder, a .zip or git+https://..."
        )
    if path.is_dir():
        return spec_files(path), str(path.resolve())
    if path.suffix.lower() == ".zip":
        (scratch / "zip").mkdir()
        unpack_zip(path, scratch / "zip")
        return spec_files(scratch / "zip"), str(path.resolve())
    return [path], str(path.resolve())
