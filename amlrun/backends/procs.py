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
    _watcher.__init__()  # the parent's watcher thread does not exist here


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
    _watcher.add(_Watch(group, cancel, deadline, done))
    return done


class _Watch:
    """One running group, looked at every ``TICK_S`` by the watcher thread."""

    def __init__(
        self,
        group: Group,
        cancel: threading.Event | None,
        deadline: float | None,
        done: threading.Event,
    ) -> None:
        self.group, self.cancel, self.deadline, self.done = group, cancel, deadline, done
        self.terminated_at: float | None = None  # SIGTERM sent: SIGKILL after TERM_GRACE_S

    def over(self) -> bool:
        """One look; True once there is nothing left to watch."""
        if self.done.is_set():
            return True
        now = time.monotonic()
        if self.terminated_at is not None:
            if now - self.terminated_at < TERM_GRACE_S:
                return False
            self.group.kill()
            return True
        if self.group.leader_exited():
            self.group.kill()
            return True
        expired = self.deadline is not None and now > self.deadline
        if (self.cancel is not None and self.cancel.is_set()) or expired:
            self.group.kill(signal.SIGTERM)
            self.terminated_at = now
        return False


TICK_S = 0.05
TERM_GRACE_S = 0.5


class _Watcher:
    """One daemon thread watches every running group of this process: a thread per step
    cost each step 0.3 ms to start, on the critical path."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: list[_Watch] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, watch: _Watch) -> None:
        with self._lock:
            self._watches.append(watch)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="amlrun-watch", daemon=True)
                self._thread.start()
        self._wake.set()

    def _loop(self) -> None:
        while True:
            with self._lock:
                watches = list(self._watches)
            if not watches:  # idle until the next step starts
                self._wake.wait()
                self._wake.clear()
                continue
            time.sleep(TICK_S)
            over = [w for w in watches if _over(w)]
            with self._lock:
                self._watches = [w for w in self._watches if w not in over]


def _over(watch: _Watch) -> bool:
    """``watch.over()``; one group's error (a leader reaped elsewhere) ends only its watch,
    never the thread that watches every step of the process."""
    try:
        return watch.over()
    except Exception:
        return True


_watcher = _Watcher()
