"""What ``python`` means for a local step: amlrun's own interpreter, or a cached virtualenv.

A pip/conda environment gets a virtualenv built once per (requirements, interpreter) in the
user's cache folder and shared by every run and repository. It is built where it stays
(scripts such as ``pip`` and ``activate`` name their own path, so a moved venv breaks), under
an flock so concurrent runs build it once, with a ready marker written last: a venv without
the marker, or whose interpreter is gone, is half-built or broken and is built again.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import site
import subprocess
import sys
import threading
from pathlib import Path

from amlrun.errors import AmlrunError, SpecError
from amlrun.hashing import hash_json
from amlrun.locks import file_lock
from amlrun.spec.model import Environment

#: conda packages a virtualenv provides itself
_CONDA_BUILTIN = {"python", "pip", "setuptools", "wheel"}
#: bumped when the way venvs are built changes, so older builds are not reused
VENV_LAYOUT = 2
READY = ".amlrun-ready"
HOST_PTH = "_amlrun_host.pth"


def interpreter_identity() -> str:
    """What 'the current interpreter' means for the step key (shared with cluster workers)."""
    v = sys.version_info
    return f"python{v.major}.{v.minor}-{sys.platform}-{platform.machine()}"


def user_cache_dir() -> Path:
    base = os.environ.get("AMLRUN_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "amlrun" if base else Path.home() / ".cache" / "amlrun"


def pip_requirements(
    env: Environment,
    fix: str = "move them to the pip: section, or run the step with --backend docker",
) -> list[str]:
    """The pip packages an environment asks for; conda-only packages are an error."""
    reqs = list(env.pip)
    if env.conda is None:
        return reqs
    if "missing_file" in env.conda:
        raise SpecError(
            f"conda file {env.conda['missing_file']} does not exist",
            field="environment",
            fix="create it or fix the path in the spec",
        )
    conda_only = []
    for dep in env.conda.get("dependencies") or []:
        if isinstance(dep, dict):
            reqs.extend(str(p) for p in dep.get("pip") or [])
        elif re.split(r"[=<>! ]", str(dep).strip(), maxsplit=1)[0].lower() not in _CONDA_BUILTIN:
            conda_only.append(str(dep))
    if conda_only:
        raise SpecError(
            "without conda, amlrun cannot install conda-only packages: " + ", ".join(conda_only),
            file=env.conda_file,
            field="dependencies",
            fix=fix,
        )
    return reqs


def needs_venv(env: Environment) -> bool:
    return env.kind in ("conda", "pip") or (env.kind == "image" and env.conda is not None)


def ensure_venv(env: Environment) -> Path:
    """The ``bin`` folder of a virtualenv with the environment's pip packages."""
    reqs = pip_requirements(env)
    # the venv is tied to this interpreter (its site-packages are linked in), not just its version
    digest = hash_json(
        {"v": VENV_LAYOUT, "reqs": reqs, "python": interpreter_identity(), "exe": sys.executable}
    )[:16]
    cache = user_cache_dir()
    venv = cache / "venvs" / digest
    if not _ready(venv):
        with file_lock(cache / "locks" / f"venv-{digest}.lock"):
            if not _ready(venv):  # another run may have built it while we waited
                shutil.rmtree(venv, ignore_errors=True)
                _build(venv, reqs)
    return venv / "bin"


def _ready(venv: Path) -> bool:
    """Built to the end (marker written last) and its interpreter still there."""
    return (venv / READY).is_file() and os.access(venv / "bin" / "python", os.X_OK)


def _build(venv: Path, reqs: list[str]) -> None:
    """Create the venv in place, install ``reqs``, then link amlrun's site-packages after them.

    The venv is not made with ``--system-site-packages``: from inside a virtualenv that
    exposes the *base* install, not the packages amlrun runs with. Instead a .pth file adds
    amlrun's own site folders after the venv's, so the environment's pins win and
    ``import amlrun`` (function modules) still works. pip runs before that file exists, so
    it installs every requirement into the venv instead of trusting amlrun's copies.
    """
    subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, text=True
    )
    if reqs:
        proc = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *reqs],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            raise AmlrunError(
                f"could not build the environment ({', '.join(reqs)}):\n{proc.stderr[-2000:]}"
            )
    [site_dir] = (venv / "lib").glob("python*/site-packages")
    lines = [f"import site; site.addsitedir({d!r})\n" for d in _host_site_dirs()]
    (site_dir / HOST_PTH).write_text("".join(lines))
    (venv / READY).write_text("\n".join(reqs))


def _host_site_dirs() -> list[str]:
    """The site folders of the interpreter amlrun runs on (its venv's, or the system's)."""
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return dirs


def shim_dir() -> Path:
    """A folder whose ``python``/``python3`` start exactly the interpreter amlrun runs on.

    The shims are tiny ``exec`` scripts, not symlinks: a symlink outside a virtualenv makes
    Python look for ``pyvenv.cfg`` beside the link, miss it, and start as the base install
    without the venv's site-packages. ``exec``-ing ``sys.executable`` by its own path keeps
    venvs, ``--copies`` venvs, pyenv, conda and system Pythons all what they are.
    """
    exe = sys.executable
    d = user_cache_dir() / "shims" / hash_json(["exec-v2", exe])[:12]
    if not (d / "python3").exists():
        d.mkdir(parents=True, exist_ok=True)
        import shlex  # only when the shim is first written

        script = f'#!/bin/sh\nexec {shlex.quote(exe)} "$@"\n'
        for name in ("python", "python3"):
            tmp = d / f".{name}.{os.getpid()}.{threading.get_ident()}"
            tmp.write_text(script)
            tmp.chmod(0o755)
            os.replace(tmp, d / name)
    return d


def host_bin_dir() -> Path:
    """The folder put first on PATH for a step on amlrun's own interpreter.

    In a virtualenv that is its ``bin`` folder, as ``activate`` does, when its ``python``
    and ``python3`` are the interpreter amlrun runs on: a step's ``python`` then starts
    without the shim's extra ``/bin/sh`` (about 1 ms per step). Anywhere else (a system or
    pyenv Python, whose folder holds other programs; a ``--copies`` venv) the shims.
    """
    exe = Path(sys.executable)
    if sys.prefix != sys.base_prefix and (exe.parent.parent / "pyvenv.cfg").is_file():
        try:
            if all(os.path.samefile(exe.parent / n, exe) for n in ("python", "python3")):
                return exe.parent
        except OSError:  # no python or python3 there
            pass
    return shim_dir()


def bin_dir_for(env: Environment) -> Path:
    """The folder put first on PATH for a step in ``env``."""
    return ensure_venv(env) if needs_venv(env) else host_bin_dir()
