"""Entry point of the ``amlrun`` group: registers the Dask backend with amlrun's plugin manager."""

from __future__ import annotations

from amlrun.backends.api import Backend, hookimpl
from amlrun_dask.backend import DaskBackend


@hookimpl
def amlrun_backends() -> list[type[Backend]]:
    return [DaskBackend]
