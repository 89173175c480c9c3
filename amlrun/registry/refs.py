"""``azureml:`` module references: ``name:version``, ``name@label``, ``name`` (the default)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from amlrun.errors import SpecError
from amlrun.registry.registry import DEFAULT

PREFIX = "azureml:"
#: azureml://registries/<r>/components/<name>/versions/<v> (or /labels/<label>)
_URI = re.compile(
    r"azureml://(?:registries|subscriptions)/.*?/components/([^/]+)/(versions|labels)/([^/]+)"
)


#: azureml://registries/<r>/environments/<name>/versions/<v> (or /labels/<label>)
_ENV_URI = re.compile(r"azureml://registries/[^/]+/environments/([^/]+)/(versions|labels)/([^/]+)")


@dataclass(frozen=True)
class ModuleRef:
    name: str
    version: str | None = None
    label: str | None = None  # set when version is None

    def __str__(self) -> str:
        return f"{self.name}:{self.version}" if self.version else f"{self.name}@{self.label}"


def is_registry_ref(text: str) -> bool:
    return (text.startswith(PREFIX) and not text.startswith("azureml://")) or bool(_URI.match(text))


def parse_ref(text: str, prefixed: bool = True) -> ModuleRef:
    """``azureml:NAME[:VERSION|@LABEL]`` (or, with ``prefixed=False``, the same without it)."""
    if m := _URI.match(text):
        return ModuleRef(
            m[1], m[3] if m[2] == "versions" else None, m[3] if m[2] == "labels" else None
        )
    body = text.removeprefix(PREFIX) if prefixed else text
    if (prefixed and not text.startswith(PREFIX)) or not body.strip():
        raise SpecError(
            f"'{text}' is not a module reference", fix="write azureml:NAME:VERSION or NAME@LABEL"
        )
    if "@" in body:
        name, _, label = body.rpartition("@")
        return ModuleRef(name.strip(), label=label.strip() or DEFAULT)
    name, sep, version = body.rpartition(":")
    if not sep:
        return ModuleRef(body.strip(), label=DEFAULT)
    return ModuleRef(name.strip(), version=version.strip())


def environment_ref(text: str) -> ModuleRef | None:
    """An environment reference (``azureml:NAME[:V|@L]`` or a registry URI), else None."""
    if m := _ENV_URI.match(text):
        version, label = (m[3], None) if m[2] == "versions" else (None, m[3])
        return ModuleRef(m[1], version, label)
    return parse_ref(text) if is_registry_ref(text) else None
