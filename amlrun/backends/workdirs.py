"""Temporary folders that name their owner, so a killed run's leftovers can be removed.

Every temporary name amlrun makes in a workspace carries the pid of the process that made
it: step work folders ``.amlrun/tmp/<step>-p<pid>-<random>``, snapshot staging
``.amlrun/snapshots/<tree>.<pid>.<thread>.tmp`` and partial restores
``.amlrun/out/<key>/.<output>[.old].<pid>.<thread>.tmp``. The next run removes those whose
owner is dead; a live owner's folder (or one with a name that names no owner) is left alone.
A workspace's ``.amlrun`` folder is used from one machine, so a pid means a process here.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from amlrun.backends.procs import pid_alive

_WORK = re.compile(r"-p(\d+)-[a-z0-9_]+$")  # mkdtemp's random part has no "-"
_TMP = re.compile(r"\.(\d+)\.\d+\.tmp$")


def new_workdir(root: Path, step: str) -> Path:
    """A fresh, private work folder for one step under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    prefix = f"{step.replace('/', '_')[:40]}-p{os.getpid()}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root))


class _Remover:
    """Removes finished work folders in a thread of its own, off the steps' critical path.

    Removing a folder costs ~0.3 ms per directory on ext4 with online discard (8 ms per step
    on a loaded machine), the next step need not wait for it. The thread lives as long as
    the process (starting one per step cost each step 0.2 ms), and the process finishes
    what it was given before it exits (an ``atexit`` wait); a killed process leaves its
    folders to the next run's ``remove_stale``.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: list[str] = []
        self._removing = 0
        self._thread: threading.Thread | None = None

    def later(self, path: str | os.PathLike) -> None:
        with self._cond:
            self._pending.append(os.fspath(path))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._drain, name="amlrun-remover", daemon=True
                )
                self._thread.start()
                atexit.register(self.wait)
            self._cond.notify_all()

    def wait(self) -> None:
        """Return once everything handed over so far is removed."""
        with self._cond:
            while self._pending or self._removing:
                self._cond.wait()

    def _drain(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                path = self._pending.pop()
                self._removing += 1
            try:
                shutil.rmtree(path, ignore_errors=True)
            finally:
                with self._cond:
                    self._removing -= 1
                    self._cond.notify_all()

    def forget(self) -> None:
        """In a forked child: the parent's thread does not exist there."""
        self.__init__()


_remover = _Remover()
os.register_at_fork(after_in_child=_remover.forget)
remove_later = _remover.later
wait_removed = _remover.wait


def owner(name: str) -> int | None:
    """The pid a temporary name records, or None when it is not one of amlrun's."""
    m = _WORK.search(name) or _TMP.search(name)
    return int(m.group(1)) if m else None


def _candidates(amlrun_dir: Path) -> Iterator[os.DirEntry]:
    yield from _scan(amlrun_dir / "tmp")
    yield from _scan(amlrun_dir / "snapshots")
    for key in _scan(amlrun_dir / "out"):
        if key.is_dir(follow_symlinks=False):
            yield from _scan(Path(key.path))


def remove_stale(amlrun_dir: Path) -> int:
    """Remove the temporary folders and files of dead processes; how many were removed."""
    removed = 0
    for entry in _candidates(amlrun_dir):
        pid = owner(entry.name)
        if pid is None or pid == os.getpid() or pid_alive(pid):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
        removed += 1
    return removed


def _scan(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except OSError:
        return []
