"""Per-step outcome of a run or a plan (what ``--json`` prints for each step)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class StepOutcome:
    name: str
    status: str = "pending"  # ran | reused | failed | skipped | cancelled | would-run | ...
    key: str | None = None
    duration_s: float = 0.0
    reason: str = ""
    backend: str | None = None
    log: str | None = None
    components: dict[str, Any] | None = field(default=None, repr=False)
    components_json: str | None = field(default=None, repr=False)  # the same, encoded
    manifest: dict[str, Any] | None = field(default=None, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "key": self.key,
            "duration_s": round(self.duration_s, 4),
            "reason": self.reason,
        }
