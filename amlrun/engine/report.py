"""Progress: live counts with rich on a terminal, one plain line per step otherwise."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

_STYLE = {
    "ran": "green",
    "reused": "cyan",
    "failed": "red",
    "skipped": "yellow",
    "cancelled": "yellow",
}


class Reporter:
    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.counts: dict[str, int] = {}
        self.total = 0
        self.started = 0.0
        self._lock = threading.Lock()
        self._live: Any = None

    def start(self, engine: Any) -> None:
        self.total = len(engine.pipeline.steps)
        self.started = time.perf_counter()
        self.notes = engine.notes  # filled while steps resolve their backends
        if self.tty and not self.quiet:
            from rich.console import Console
            from rich.live import Live

            # bound to the real stderr, and no redirection: doit wraps sys.stdout itself,
            # and two wrappers writing through each other never finish
            self._console = Console(file=sys.__stderr__)
            self._live = Live(
                self._status(),
                console=self._console,
                refresh_per_second=8,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()

    def _status(self):
        from rich.text import Text

        done = sum(self.counts.values())
        parts = [f"{done}/{self.total} steps"]
        parts += [f"{n} {k}" for k, n in sorted(self.counts.items())]
        parts.append(f"{time.perf_counter() - self.started:.1f}s")
        return Text(" | ".join(parts))

    def _print(self, line: str, style: str | None = None) -> None:
        if self.quiet:
            return
        if self._live is not None:
            self._console.print(line, style=style, highlight=False, markup=False)
        else:
            print(line, file=sys.stderr, flush=True)

    def step_done(self, out: Any) -> None:
        with self._lock:
            self.counts[out.status] = self.counts.get(out.status, 0) + 1
            detail = f" ({out.reason})" if out.status in ("failed", "skipped") else ""
            timing = f" {out.duration_s:.2f}s" if out.status == "ran" else ""
            self._print(f"{out.status:9} {out.name}{timing}{detail}", _STYLE.get(out.status))
            if self._live is not None:
                self._live.update(self._status())

    def finish(self, result: Any) -> None:
        if self._live is not None:
            self._live.stop()
        for out in result.steps:
            if out.status in ("skipped", "cancelled"):  # never reached doit's actions
                self._print(f"{out.status:9} {out.name} ({out.reason})", _STYLE.get(out.status))
        elapsed = time.perf_counter() - self.started
        for note in self.notes:
            self._print(f"note: {note}")
        self._print(f"run {result.run_id}: {result.summary()} in {elapsed:.2f}s")
        for name, path in result.outputs.items():
            self._print(f"  output {name}: {path}")
