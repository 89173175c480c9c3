"""amlrun's plugin hooks (pluggy). Plugins register through the ``amlrun`` entry-point group.

A plugin module implements any of these with ``@amlrun.backends.hookimpl``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from amlrun.backends.base import Backend

hookspec = pluggy.HookspecMarker("amlrun")
hookimpl = pluggy.HookimplMarker("amlrun")


@hookspec
def amlrun_backends() -> list[type[Backend]]:
    """Return the Backend classes this plugin provides (each with a unique ``name``)."""
