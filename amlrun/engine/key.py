"""The step key: the heart of incrementality (DESIGN.md, "The step key").

``components`` keeps the parts that went into a key so that ``amlrun status`` can say which
one changed since the last run (which file, which parameter, which input, which variable).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

from amlrun.hashing import canonical_json, hash_bytes

#: 2: environment variables and input file names joined the key; the current interpreter's
#: identity names its installed distributions; 3: a port is keyed by its kind, not its type name
KEY_FORMAT_VERSION = 3


@dataclass(frozen=True)
class KeyParts:
    module: str  # hash of the normalized interface + command template
    snapshot: str  # tree hash of the snapshot
    environment: str  # hash of the environment definition + its resolved identity
    params: dict[str, Any]  # resolved parameter values
    inputs: dict[str, str | None]  # input name -> content hash of the bound data
    env_vars: dict[str, str]  # variable -> hash of its value (component, then node level)
    file_names: dict[str, str]  # file input -> the file name the command sees

    @cached_property
    def components_json(self) -> str:
        """The components as canonical JSON, encoded once: what the run records (runs.sqlite)
        and, with the format version, what the key hashes."""
        return canonical_json(self.as_dict()).decode()

    @cached_property
    def key(self) -> str:
        """The hash of the canonical JSON of the components and ``"v"``, which sorts after
        every field name, so it is the last member (tests/test_keys.py checks it)."""
        versioned = f'{self.components_json[:-1]},"v":{KEY_FORMAT_VERSION}}}'
        return hash_bytes(versioned.encode())

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = tuple(f.name for f in fields(KeyParts))  # fields() per call: 3 us a step


def explain_change(old: dict[str, Any] | None, new: KeyParts, files: tuple[dict, dict]) -> str:
    """Why ``new`` differs from the components recorded last time (empty: no difference)."""
    if old is None:
        return "never run"
    if "env_vars" not in old:  # recorded by an amlrun whose keys had another shape
        return f"the key format changed (now version {KEY_FORMAT_VERSION})"
    reasons: list[str] = []
    if old.get("module") != new.module:
        reasons.append("module interface or command changed")
    if old.get("snapshot") != new.snapshot:
        reasons.append(_snapshot_change(files))
    if old.get("environment") != new.environment:
        reasons.append("environment changed")
    reasons += _changed(old.get("params"), new.params, "parameter {k}: {a!r} -> {b!r}")
    reasons += _changed(old.get("inputs"), new.inputs, "input {k} changed")
    reasons += _changed(old.get("file_names"), new.file_names, "input {k} file name: {a} -> {b}")
    reasons += _changed(old.get("env_vars"), new.env_vars, "environment variable {k} changed")
    return "; ".join(reasons) or "same key as last run, but not in the store"


def _changed(old: dict | None, new: dict, template: str) -> list[str]:
    old = old or {}
    return [
        template.format(k=k, a=old.get(k), b=new.get(k))
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k)
    ]


def _snapshot_change(files: tuple[dict, dict]) -> str:
    before, after = files
    changed = sorted(
        {p for p in after if before.get(p) != after[p]} | {p for p in before if p not in after}
    )
    shown = ", ".join(changed[:5]) + (f" (+{len(changed) - 5} more)" if len(changed) > 5 else "")
    return f"snapshot files changed: {shown}" if changed else "snapshot changed"
