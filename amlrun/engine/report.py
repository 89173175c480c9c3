"""Progress on the terminal: a live view with rich on a terminal, plain lines otherwise.

The engine calls :meth:`Reporter.start`, :meth:`step_started`, the sink from
:meth:`output_sink` (a running command's output, live), :meth:`step_done` and
:meth:`finish`. Everything printed goes through one lock and, on a terminal, through the
live display's console, so streamed lines and the display never break into each other.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from amlrun.engine.progress import (
    STYLE,
    Running,
    counts_line,
    live_view,
    log_tail,
    outputs_told,
    summary_rows,
)


class Reporter:
    def __init__(self, *, quiet: bool = False, stream: bool = False) -> None:
        """``stream``: print every output line, prefixed with its step's name."""
        self.quiet = quiet
        self.stream = stream
        self.tty = sys.stderr.isatty()
        self.counts: dict[str, int] = {}
        self.running: dict[str, Running] = {}
        self._outcomes: dict = {}  # the plan's: a sweep adds its trials while it runs
        self.started = 0.0
        self.notes: list[str] = []
        self._width = 0  # of the step-name prefix of streamed lines
        self._lock = threading.Lock()
        self._live: Any = None

    @property
    def total(self) -> int:
        return len(self._outcomes)

    def start(self, engine: Any) -> None:
        self._outcomes = engine.planned.outcomes
        self._width = max((len(n) for n in engine.pipeline.steps), default=0)
        self.started = time.perf_counter()
        self.notes = engine.notes  # filled while steps resolve their backends
        if self.tty and not self.quiet:
            from rich.console import Console
            from rich.live import Live

            # bound to the real stderr, and no redirection: doit wraps sys.stdout itself,
            # and two wrappers writing through each other never finish
            self._console = Console(file=sys.__stderr__)
            self._live = Live(
                console=self._console,
                get_renderable=self._view,
                refresh_per_second=8,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()

    def _view(self):
        """Called by rich's refresh thread: reads copies, never takes the lock (printing,
        which holds it, waits for the display's own lock)."""
        return live_view(dict(self.running), dict(self.counts), self.total, self.started)

    def _print(self, line: str, style: str | None = None, *, out: bool = False) -> None:
        """One whole line above the live view, or on stderr (``out``: stdout) when plain."""
        if self.quiet:
            return
        if self._live is not None:
            self._console.print(line, style=style, highlight=False, markup=False, soft_wrap=True)
        else:
            print(line, file=sys.stdout if out else sys.stderr, flush=True)

    def step_started(self, out: Any) -> None:
        with self._lock:
            self.running[out.name] = Running(out.backend or "?")
            if self._live is None:
                self._print(f"{'running':9} {out.name} on {out.backend}")

    def output_sink(self, step: str) -> Callable[[bytes], None]:
        """Where the command of ``step`` sends its output while it runs."""

        def sink(chunk: bytes) -> None:
            with self._lock:
                running = self.running.get(step)
                if running is not None:
                    self._stream(step, running.feed(chunk))

        return sink

    def _stream(self, step: str, lines: list[str]) -> None:
        if self.stream:
            for line in lines:
                self._print(f"{step:{self._width}} | {line}", out=True)

    def step_done(self, out: Any) -> None:
        with self._lock:
            running = self.running.pop(out.name, None)
            if running is not None:
                self._stream(out.name, running.rest())
            self.counts[out.status] = self.counts.get(out.status, 0) + 1
            detail = f" ({out.reason})" if out.status in ("failed", "skipped") else ""
            timing = f" {out.duration_s:.2f}s" if out.status == "ran" else ""
            self._print(f"{out.status:9} {out.name}{timing}{detail}", STYLE.get(out.status))
            if out.status == "failed" and out.log:
                self._failure(out)
            if self._live is None and self.running and not self.quiet:
                elapsed = time.perf_counter() - self.started
                self._print(counts_line(self.counts, len(self.running), self.total, elapsed))

    def _failure(self, out: Any) -> None:
        """A failed step's last output lines, so the traceback is on the terminal."""
        lines = log_tail(out.log)
        if lines:
            self._print(f"  last {len(lines)} lines of its output:")
            for line in lines:
                self._print(f"  | {line}", "red")
        self._print(f"  full log: {out.log}")

    def finish(self, result: Any) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        for out in result.steps:
            if out.status in ("skipped", "cancelled"):  # never reached doit's actions
                self._print(f"{out.status:9} {out.name} ({out.reason})", STYLE.get(out.status))
        elapsed = time.perf_counter() - self.started
        for note in self.notes:
            self._print(f"note: {note}")
        self._print(f"run {result.run_id}: {result.summary()} in {elapsed:.2f}s")
        for row in summary_rows(result.steps):
            self._print(row)
        for line in outputs_told(result):
            self._print(line)
