"""amlrun's Dask backend: steps run on an existing Dask cluster.

Workers fetch the snapshot and inputs from the step's store and write outputs back to it,
so the cluster needs no disk shared with the machine running amlrun.
"""

from __future__ import annotations

from amlrun_dask.backend import DaskBackend

__all__ = ["DaskBackend"]
