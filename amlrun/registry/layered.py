"""The registries a workspace sees, workspace first, and resolving a reference through them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amlrun.errors import SpecError
from amlrun.registry.refs import ModuleRef
from amlrun.registry.registry import Registry

WORKSPACE_REGISTRY = ".amlrun/registry"


def registry_urls(config: dict, extra: str | None = None) -> list[str]:
    """The workspace registry, ``--registry`` and ``[tool.amlrun] registry`` (str or list)."""
    raw = config.get("registry") or []
    configured = [raw] if isinstance(raw, str) else raw
    if not isinstance(configured, list) or not all(isinstance(u, str) for u in configured):
        raise SpecError(
            "[tool.amlrun] registry must be a URL or a list of URLs",
            fix='write registry = "s3://team/registry"',
        )
    urls = [WORKSPACE_REGISTRY, *([extra] if extra else []), *configured]
    return list(dict.fromkeys(urls))


class NotRegistered(SpecError):
    """No layer holds the name: a pipeline still loads, the step or input cannot run."""


@dataclass(frozen=True)
class Resolved:
    registry: Registry
    record: Any  # the kind's record type (registry.KINDS)


class Registries:
    def __init__(self, workspace: Path, config: dict, extra: str | None = None) -> None:
        self.workspace = workspace
        self.urls = registry_urls(config, extra)
        self.layers = self.of("modules")

    def of(self, kind: str) -> list[Registry]:
        return [Registry(u, self.workspace, kind) for u in self.urls]

    def find(self, ref: ModuleRef, allow_disabled: bool = False, kind: str = "modules") -> Resolved:
        """The version ``ref`` names in the first registry that has it."""
        layers = self.layers if kind == "modules" else self.of(kind)
        for reg in layers:
            if not reg.versions(ref.name):
                continue
            version = ref.version or reg.label(ref.name, ref.label or "default")
            record = reg.record(ref.name, version) if version else None
            if record is None:
                continue
            if not allow_disabled and reg.is_disabled(ref.name, record.version):
                raise SpecError(
                    f"{reg.noun} {ref.name} version {record.version} is disabled in {reg.url}",
                    fix=f"enable it (amlrun module enable '{ref.name}:{record.version}') or "
                    "reference another version",
                )
            return Resolved(reg, record)
        searched = ", ".join(r.url for r in layers)
        raise NotRegistered(
            f"{layers[0].noun} {ref} is not registered (searched {searched})",
            fix=f"register it: {layers[0].register_hint}",
        )

    def load(self, ref: ModuleRef):
        """The referenced module, ready to run (its checkout lives in .amlrun/registry-cache)."""
        from amlrun.registry.publish import load_checkout

        found = self.find(ref)
        cache = self.workspace / ".amlrun" / "registry-cache"
        return load_checkout(found.registry, found.record, cache)


def open_registries(registry: str | None = None) -> Registries:
    """The current workspace's registries, plus ``--registry`` when given."""
    from amlrun.workspace import Workspace

    ws = Workspace.find()
    return Registries(ws.root, ws.config, registry)


def holding(regs: Registries, name: str, registry: str | None) -> Registry:
    """Where a verb on module ``name`` acts: ``--registry``, else the first layer that has it."""
    if registry:
        return Registry(registry, regs.workspace)
    for reg in regs.layers:
        if reg.versions(name):
            return reg
    raise SpecError(
        f"module {name} is not registered (searched {', '.join(r.url for r in regs.layers)})",
        fix="register it first: amlrun module register SPEC",
    )
