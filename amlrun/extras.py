"""Which ``pip install 'amlrun[EXTRA]'`` brings a missing package.

Plugins import their heavy packages only when used, so a missing one surfaces as an
ImportError deep inside a run; this names the extra instead of a raw ModuleNotFoundError.
"""

from __future__ import annotations

import importlib

#: top-level module -> the amlrun extra that installs it
MODULE_EXTRAS = {
    "docker": "docker",
    "distributed": "dask",
    "dask": "dask",
    "s3fs": "s3",
    "adlfs": "azure",
    "sklearn": "examples",
    "cronsim": "schedule",
    "dateutil": "schedule",
    "tzlocal": "schedule",
    "fastapi": "serve",
    "uvicorn": "serve",
}
#: backend name -> the module it cannot work without
BACKEND_MODULES = {"docker": "docker", "dask": "distributed"}


def install_hint(module: str) -> str | None:
    """``pip install 'amlrun[X]'`` for a missing top-level ``module``, if an extra has it."""
    extra = MODULE_EXTRAS.get(module.split(".")[0])
    return f"pip install 'amlrun[{extra}]'" if extra else None


def missing_module(exc: BaseException) -> ModuleNotFoundError | None:
    """The ModuleNotFoundError behind ``exc`` (itself, its cause or context), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ModuleNotFoundError) and seen.name:
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def backend_missing(backend: str) -> str | None:
    """The package ``backend`` needs and cannot import here (None: importable)."""
    module = BACKEND_MODULES.get(backend)
    if module is None:
        return None
    try:
        importlib.import_module(module)
    except ImportError:
        return module
    return None
