"""One thread per amlrun process watches every running step: a step past its timeout is
stopped even when watching another step went wrong."""

from __future__ import annotations

import subprocess
import threading
import time

from amlrun.backends import procs


class _Broken:
    """A watch whose group cannot be asked about (e.g. its leader was reaped elsewhere)."""

    def over(self) -> bool:
        raise ChildProcessError("no such child")


def test_a_timed_out_step_is_stopped_though_another_watch_failed() -> None:
    procs._watcher.add(_Broken())  # type: ignore[arg-type]
    group = procs.Group(["sleep", "30"], stdout=subprocess.DEVNULL)
    started = time.monotonic()
    done = procs.watch(group, threading.Event(), 0.2)

    code = group.wait()
    done.set()

    assert code != 0 and time.monotonic() - started < 5
