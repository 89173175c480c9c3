"""The fully resolved job a backend executes, and what it hands back.

A job is plain data: it names its snapshot and inputs both by local path (for backends on
this machine) and by store manifest (for backends that fetch from the store, such as a
cluster worker), so any backend can run it without asking the core anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from amlrun.cache.manifest import Entries
from amlrun.spec.model import Environment, Module
from amlrun.spec.names import folder_name

if TYPE_CHECKING:  # rendering is imported when a command is run
    from amlrun.spec.render import Rendered


@dataclass(frozen=True)
class JobInput:
    """Data bound to an input port."""

    name: str
    path: Path | None  # where it is on this machine (None: only in the store)
    entries: Entries  # its content, as stored (a file has the single entry "")
    is_file: bool
    file_name: str = ""  # a file's name as the command sees it (it is in the step key)

    def fetched_path(self, work: Path) -> Path:
        """Where a store-only input is fetched in ``work``; a file keeps its keyed name."""
        folder = work / "inputs" / folder_name(self.name)
        return folder / self.file_name if self.is_file and self.file_name else folder


def output_path(work: Path, name: str) -> Path:
    """An output's folder (or file) in a work folder: a safe name, never outside ``work``."""
    return work / "outputs" / folder_name(name)


@dataclass(frozen=True)
class Job:
    step: str  # step name, for logs and messages
    key: str  # the step key (see amlrun.engine.key)
    module: Module
    params: dict[str, Any]  # resolved parameter values; None means "no value"
    snapshot_dir: Path | None  # the snapshot on this machine (read it, never write it)
    snapshot_entries: Entries  # the snapshot as stored
    inputs: dict[str, JobInput]
    outputs: tuple[str, ...]  # output port names the command must produce
    environment: Environment
    store_url: str  # where outputs go (an fsspec URL or local folder)
    env_vars: dict[str, str] = field(default_factory=dict)
    timeout_s: float | None = None
    stream_logs: bool = False  # echo the command's output live
    #: receives the command's output live, chunk by chunk (the terminal's progress display);
    #: when set, it replaces stream_logs' echo
    on_output: Callable[[bytes], None] | None = field(default=None, compare=False, repr=False)
    #: where the command's mlflow file store goes (``MLFLOW_TRACKING_URI`` points there);
    #: None when the user chose a tracking URI. Never part of the key.
    tracking_dir: Path | None = None

    def argv(self, paths: dict[str, str]) -> list[str]:
        """The command line, with ``paths`` giving each input/output its location."""
        return self.rendered(paths).argv

    def rendered(self, paths: dict[str, str]) -> Rendered:
        """The command with ``paths`` in place: its argv, and its plain words if it has no
        shell syntax (a runner that looks programs up on PATH may start those directly)."""
        from amlrun.spec.render import render

        values: dict[str, Any] = dict(self.params)
        values.update(paths)
        return render(self.module, values)


def store_outputs(store: Any, exit_code: int, outputs: dict[str, Path]) -> dict[str, Entries]:
    """Put a finished command's outputs into the store; a failed command stores nothing.

    The outputs are the runner's temporary files, deleted right after, so the store may move
    them in (``move=True``) instead of copying.
    """
    if exit_code != 0:
        return {}
    return {
        name: store.put_tree(path, move=True)[0] if path.exists() else {}
        for name, path in outputs.items()
    }


@dataclass(frozen=True)
class JobResult:
    exit_code: int
    duration_s: float
    outputs: dict[str, Entries]  # produced outputs, already written to the store's blobs
    log: bytes = b""  # combined stdout/stderr
    backend: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    #: the mlflow file store, from a backend that could not write ``Job.tracking_dir`` itself
    #: (it ran elsewhere): its files, already in the store's blobs, restored there by the engine
    tracking: Entries = field(default_factory=dict)


#: the variable mlflow reads its tracking store from
TRACKING_URI = "MLFLOW_TRACKING_URI"


def tracking_env(folder: PurePath) -> dict[str, str]:
    """The variables that make mlflow in a command log to a file store at ``folder`` (an
    absolute path as the command sees it). mlflow 3 refuses a file store unless allowed."""
    return {TRACKING_URI: folder.as_uri(), "MLFLOW_ALLOW_FILE_STORE": "true"}
