"""Finding backends: the core's ``local`` plus plugins from the ``amlrun`` entry points.

Plugins are loaded only when a non-local backend is asked for, so a local run pays nothing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from amlrun.backends.base import Backend
from amlrun.errors import SpecError


@lru_cache(maxsize=1)
def plugin_manager():
    import pluggy

    from amlrun.backends import hookspecs
    from amlrun.backends.local import LocalBackend

    class Core:
        """The core's own backend, registered here so that a local run never imports pluggy."""

        @hookspecs.hookimpl
        def amlrun_backends(self) -> list[type[Backend]]:
            return [LocalBackend]

    pm = pluggy.PluginManager("amlrun")
    pm.add_hookspecs(hookspecs)
    pm.register(Core(), "local")
    pm.load_setuptools_entrypoints("amlrun")
    return pm


def backend_classes(load_plugins: bool = True) -> dict[str, type[Backend]]:
    from amlrun.backends.local import LocalBackend

    if not load_plugins:
        return {"local": LocalBackend}
    out: dict[str, type[Backend]] = {}
    for classes in plugin_manager().hook.amlrun_backends():
        for cls in classes or []:
            out.setdefault(cls.name, cls)
    return out


def make_backend(name: str, options: dict[str, Any]) -> Backend:
    classes = backend_classes(load_plugins=name != "local")
    if name not in classes:
        known = ", ".join(sorted(backend_classes()))
        raise SpecError(
            f"no backend named '{name}'",
            field="--backend",
            fix=f"use one of: {known} (pip install 'amlrun[docker]' or 'amlrun[dask]' for more)",
        )
    return classes[name](options)


def compute_map(config: dict[str, Any]) -> dict[str, str]:
    """``[tool.amlrun.compute]``: compute name (as written, without ``azureml:``) -> backend."""
    raw = config.get("compute") or {}
    return {str(k).removeprefix("azureml:"): str(v) for k, v in raw.items()}
