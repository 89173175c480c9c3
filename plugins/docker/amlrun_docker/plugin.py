"""Entry point of the ``amlrun`` group: registers the docker backend with amlrun's plugin manager.

The ``docker`` package is imported only when the backend talks to an engine, so listing
backends works without it installed.
"""

from __future__ import annotations

from amlrun.backends.api import Backend, hookimpl
from amlrun_docker.backend import DockerBackend


@hookimpl
def amlrun_backends() -> list[type[Backend]]:
    return [DockerBackend]
