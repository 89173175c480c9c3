"""What the progress display shows: running steps with their last lines, counts, the
summary and where the outputs are. Pure functions of the reporter's state, so the live
view (rich) and the plain lines (CI logs) say the same things."""

from __future__ import annotations

import codecs
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TAIL_LINES = 3  # output lines shown under each running step
FAILURE_LINES = 20  # lines of a failed step's log printed on the terminal

STYLE = {
    "ran": "green",
    "reused": "cyan",
    "failed": "red",
    "skipped": "yellow",
    "cancelled": "yellow",
}


@dataclass
class Running:
    """A step whose command is running: where, since when, and its last output lines."""

    backend: str
    started: float = field(default_factory=time.perf_counter)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    partial: str = ""
    decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))

    def feed(self, chunk: bytes) -> list[str]:
        """The whole lines ``chunk`` completes (a partial last line waits for the rest)."""
        text = self.partial + self.decoder.decode(chunk)
        *lines, self.partial = text.replace("\r\n", "\n").split("\n")
        lines = [line.rsplit("\r", 1)[-1] for line in lines]  # a progress bar's last state
        self.tail.extend(lines)
        return lines

    def rest(self) -> list[str]:
        """The unfinished last line, at the end of the step."""
        text, self.partial = self.partial + self.decoder.decode(b"", final=True), ""
        if text:
            self.tail.append(text)
        return [text] if text else []


def counts_line(counts: dict[str, int], running: int, total: int, elapsed: float) -> str:
    finished = sum(counts.values())
    queued = max(0, total - finished - running)
    done = counts.get("ran", 0)
    parts = [
        f"{done} done",
        f"{counts.get('reused', 0)} reused",
        f"{counts.get('failed', 0)} failed",
    ]
    parts += [f"{n} {k}" for k, n in sorted(counts.items()) if k not in ("ran", "reused", "failed")]
    parts += [f"{running} running", f"{queued} queued", f"{elapsed:.1f}s"]
    return f"{finished}/{total} steps: " + ", ".join(parts)


def live_view(running: dict[str, Running], counts: dict[str, int], total: int, t0: float):
    """The live region: one row per running step, its last lines under it, then counts."""
    from rich.console import Group
    from rich.text import Text

    now = time.perf_counter()
    width = max((len(n) for n in running), default=0)
    rows: list[Text] = []
    for name, r in running.items():
        rows.append(
            Text.assemble(
                ("▶ ", "bold blue"),
                (f"{name:{width}}", "bold"),
                f"  {r.backend}  ",
                (f"{now - r.started:.1f}s", "magenta"),
            )
        )
        rows += [
            Text(f"    {line}", style="dim", no_wrap=True, overflow="ellipsis") for line in r.tail
        ]
    rows.append(Text(counts_line(counts, len(running), total, now - t0), style="bold"))
    return Group(*rows)


def log_tail(log: str | None) -> list[str]:
    """The last lines of a step's log (nothing if it cannot be read)."""
    try:
        text = Path(log).read_text(errors="replace") if log else ""
    except OSError:
        return []
    return text.rstrip("\n").splitlines()[-FAILURE_LINES:]


def summary_rows(steps: list[Any], limit: int = 20) -> list[str]:
    """Per step: name, duration, status, backend (a long list leaves the reused out)."""
    shown = steps if len(steps) <= limit else [s for s in steps if s.status != "reused"]
    width = max((len(s.name) for s in shown), default=0)
    status = max((len(s.status) for s in shown), default=0)
    rows = [
        f"  {s.name:{width}}  {s.duration_s:7.2f}s  {s.status:{status}}  {s.backend or ''}".rstrip()
        for s in shown
    ]
    if len(shown) < len(steps):
        rows.append(f"  ({len(steps) - len(shown)} reused steps not listed)")
    return rows


def outputs_told(result: Any) -> list[str]:
    """Where each pipeline output is: its path, or the command that puts it somewhere."""
    lines = []
    source = _shown_path(result.pipeline.source)
    for name, po in result.pipeline.outputs.items():
        if name in result.outputs:
            lines.append(f"  output {name}: {result.outputs[name]}")
            continue
        step = next((s for s in result.steps if s.name == po.step), None)
        if step is not None and step.status in ("ran", "reused"):
            lines.append(
                f"  output {name}: in the store; to get it: "
                f"amlrun run {source} --output {name}=PATH"
            )
        else:
            lines.append(f"  output {name}: not produced (step {po.step} did not succeed)")
    extra = set(result.outputs) - set(result.pipeline.outputs)  # node outputs with a path:
    lines += [f"  output {name}: {result.outputs[name]}" for name in sorted(extra)]
    if result.run_id and any(s.status in ("ran", "reused") for s in result.steps):
        lines.append(f"  every step's outputs: amlrun runs outputs {result.run_id} [STEP] -o DIR")
    return lines


def _shown_path(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
