"""The Backend interface every compute backend implements (local, docker, cluster, ...)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from amlrun.spec.model import Environment

if TYPE_CHECKING:  # a null run assembles no job
    from amlrun.backends.job import Job, JobResult


@dataclass(frozen=True)
class Availability:
    ok: bool
    detail: str  # e.g. "engine 28.2 at unix:///..." or why it cannot run now


class Backend(ABC):
    """Where a step's command executes.

    A backend is built once per run with its options (from workspace config and the CLI),
    resolves environments to an identity that goes into the step key, and executes jobs.
    ``execute`` must put produced outputs into the job's store (see
    :func:`amlrun.cache.store.open_store` and ``Store.put_tree``) and return their entries;
    it must not write the step manifest (the engine does, after success).
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options = dict(options or {})

    @abstractmethod
    def availability(self) -> Availability:
        """Can this backend run jobs now (engine/scheduler reachable)?"""

    @abstractmethod
    def environment_identity(self, env: Environment) -> str:
        """A string identifying what ``env`` resolves to here (python version, image id)."""

    @abstractmethod
    def execute(self, job: Job, cancel: Any = None) -> JobResult:
        """Run ``job``; ``cancel`` is a threading.Event set when the user presses Ctrl-C."""

    def close(self) -> None:  # noqa: B027 - optional hook for backends holding connections
        """Release clients or connections at the end of a run."""
