"""Step processes that never outlive their step or their amlrun.

Each command runs in its own process group. When the command's main process exits, what
is left of its group (background children) is killed, as a finished Azure ML job's
container is. When amlrun itself dies, even by SIGKILL, a watchdog process started once per
amlrun process kills every group still running and removes every docker container still
registered (see :mod:`amlrun.backends._watchdog`): per step that costs two small writes to
a pipe. Backends outside core register their containers with :func:`watch_container`.
"""

from __future__ import annotations

import contextlib
import os
import platform  # its node() is socket.gethostname(), without importing socket
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

_WATCHDOG = Path(__file__).with_name("_watchdog.py")
_lock = threading.Lock()
_watchdog: subprocess.Popen | None = None
_pipe: IO[bytes] | None = None


def _forget_after_fork() -> None:
    """A forked child must not hold its parent's watchdog pipe open: it starts its own."""
    global _lock, _watchdog, _pipe
    _lock = threading.Lock()  # another thread may have held it at the fork
    if _pipe is not None:
        with contextlib.suppress(OSError):
            _pipe.close()
    _watchdog = _pipe = None


os.register_at_fork(after_in_child=_forget_after_fork)


def owner_label() -> str:
    """Names this amlrun process on this machine, e.g. for labels on docker containers."""
    return f"{platform.node()}:{os.getpid()}"


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (a reused pid counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _start_watchdog() -> None:
    """Start this process's watchdog unless it runs (call with ``_lock`` held)."""
    global _watchdog, _pipe
    if _pipe is None:
        _watchdog = subprocess.Popen(
            [sys.executable, "-I", "-S", str(_WATCHDOG)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # survives a kill of amlrun's own process group
        )
        _pipe = _watchdog.stdin


def _tell(message: str) -> None:
    """Send one line to the watchdog, starting it on first use in this process."""
    global _pipe
    with _lock:
        _start_watchdog()
        assert _pipe is not None
        try:
            _pipe.write(message.encode() + b"\n")
            _pipe.flush()
        except BrokenPipeError:  # the watchdog was killed: start another next time
            _pipe = None


def watch_container(engine: str, container_id: str) -> None:
    """Have the watchdog remove this container if amlrun dies before :func:`forget_container`."""
    _tell(f"C{engine} {container_id}")


def forget_container(container_id: str) -> None:
    _tell(f"c{container_id}")


class Group:
    """A command started as the leader of its own process group, known to the watchdog."""

    def __init__(self, argv: list[str], **popen: Any) -> None:
        with _lock:  # running before the command starts: a kill between leaves no orphan
            _start_watchdog()
        self.proc = subprocess.Popen(argv, start_new_session=True, **popen)
        self._lock = threading.Lock()
        self._reaped = False
        _tell(f"+{self.proc.pid}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal every process of the group, unless it is gone (its pid may be reused)."""
        with self._lock:
            if not self._reaped:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.proc.pid, sig)

    def leader_exited(self) -> bool:
        """Whether the leader has exited (it stays unreaped, so its pid is not reused)."""
        with self._lock:
            if self._reaped:
                return True
            flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
            return os.waitid(os.P_PID, self.proc.pid, flags) is not None

    def wait(self) -> int:
        """Wait for the leader, kill what is left of its group, then reap it; its exit code.

        The leader is reaped last: until then its pid, which names the group, cannot be
        reused by another process, so no signal can reach a stranger.
        """
        os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOWAIT)
        self.kill()
        _tell(f"-{self.proc.pid}")
        with self._lock:
            self._reaped = True
            return self.proc.wait()


def watch(group: Group, cancel: threading.Event | None, timeout: float | None) -> threading.Event:
    """Kill the group on Ctrl-C (cancel) or timeout, or what is left of it once its leader
    exited (a background child holding the log pipe open must not keep the step running);
    set the returned event to stop watching."""
    done = threading.Event()
    deadline = time.monotonic() + timeout if timeout else None

    def loop() -> None:
        while not done.wait(0.05):
            if group.leader_exited():
                group.kill()
                return
            expired = deadline is not None and time.monotonic() > deadline
            if (cancel is not None and cancel.is_set()) or expired:
                group.kill(signal.SIGTERM)
                if not done.wait(0.5):
                    group.kill()
                return

    threading.Thread(target=loop, daemon=True).start()
    return done
