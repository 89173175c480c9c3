"""The public API for backend plugins: everything a backend may use, in one module.

A backend receives a :class:`Job` (plain data, picklable to another machine), runs its
command somewhere, puts the outputs into the job's store and returns a :class:`JobResult`;
the engine writes the manifest. Backends import only this module, so amlrun's internals can
change without breaking them. ``API_VERSION`` changes when a name here changes meaning or
goes away (adding a name does not change it); docs/backends.md documents each name.
"""

from __future__ import annotations

from amlrun.backends.base import Availability, Backend
from amlrun.backends.hookspecs import hookimpl
from amlrun.backends.job import (
    Job,
    JobInput,
    JobResult,
    output_path,
    store_outputs,
    tracking_env,
)
from amlrun.backends.local import prepare_workdir, run_prepared, stage_snapshot
from amlrun.backends.procs import (
    Group,
    forget_container,
    owner_label,
    pid_alive,
    watch,
    watch_container,
)
from amlrun.backends.venvs import pip_requirements
from amlrun.backends.workdirs import new_workdir
from amlrun.cache.manifest import Entries
from amlrun.cache.store import open_store
from amlrun.errors import AmlrunError, SpecError
from amlrun.snapshot.environment import environment_spec_identity
from amlrun.spec.model import Environment, Module
from amlrun.spec.names import folder_name

API_VERSION = 1

__all__ = [
    "API_VERSION",
    "AmlrunError",
    "Availability",
    "Backend",
    "Entries",
    "Environment",
    "Group",
    "Job",
    "JobInput",
    "JobResult",
    "Module",
    "SpecError",
    "environment_spec_identity",
    "folder_name",
    "forget_container",
    "hookimpl",
    "local_environment_identity",
    "new_workdir",
    "open_store",
    "output_path",
    "owner_label",
    "pid_alive",
    "pip_requirements",
    "prepare_workdir",
    "run_prepared",
    "stage_snapshot",
    "store_outputs",
    "tracking_env",
    "watch",
    "watch_container",
]


def local_environment_identity(env: Environment) -> str:
    """What ``env`` resolves to on the local backend: return it from ``environment_identity``
    exactly when the backend runs the command with this machine's interpreter and packages,
    so results are shared with ``local`` both ways."""
    from amlrun.backends.local import LocalBackend

    return LocalBackend().environment_identity(env)
