"""The step key: the heart of incrementality (DESIGN.md, "The step key").

``components`` keeps the parts that went into a key so that ``amlrun status`` can say which
one changed since the last run (which file, which parameter, which input).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amlrun.hashing import hash_json

KEY_FORMAT_VERSION = 1


@dataclass(frozen=True)
class KeyParts:
    module: str  # hash of the normalized interface + command template
    snapshot: str  # tree hash of the snapshot
    environment: str  # hash of the environment definition + its resolved identity
    params: dict[str, Any]  # resolved parameter values
    inputs: dict[str, str | None]  # input name -> content hash of the bound data

    @property
    def key(self) -> str:
        return hash_json(
            {
                "v": KEY_FORMAT_VERSION,
                "module": self.module,
                "snapshot": self.snapshot,
                "environment": self.environment,
                "params": self.params,
                "inputs": self.inputs,
            }
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "module": self.module,
            "snapshot": self.snapshot,
            "environment": self.environment,
            "params": self.params,
            "inputs": self.inputs,
        }


def explain_change(old: dict[str, Any] | None, new: KeyParts, files: tuple[dict, dict]) -> str:
    """Why ``new`` differs from the components recorded last time (empty: no difference)."""
    if old is None:
        return "never run"
    reasons: list[str] = []
    if old.get("module") != new.module:
        reasons.append("module interface or command changed")
    if old.get("snapshot") != new.snapshot:
        before, after = files
        changed = sorted(
            {p for p in after if before.get(p) != after[p]} | {p for p in before if p not in after}
        )
        shown = ", ".join(changed[:5]) + (
            f" (+{len(changed) - 5} more)" if len(changed) > 5 else ""
        )
        reasons.append(f"snapshot files changed: {shown}" if changed else "snapshot changed")
    if old.get("environment") != new.environment:
        reasons.append("environment changed")
    old_params = old.get("params") or {}
    for k in sorted(set(old_params) | set(new.params)):
        if old_params.get(k) != new.params.get(k):
            reasons.append(f"parameter {k}: {old_params.get(k)!r} -> {new.params.get(k)!r}")
    old_inputs = old.get("inputs") or {}
    for k in sorted(set(old_inputs) | set(new.inputs)):
        if old_inputs.get(k) != new.inputs.get(k):
            reasons.append(f"input {k} changed")
    return "; ".join(reasons) or "same key as last run, but not in the store"
