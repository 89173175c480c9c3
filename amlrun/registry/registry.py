"""One registry kind at one location: versions (immutable), labels and disabled marks.

Layout (DESIGN.md "Registry"), ``<kind>`` being ``modules``, ``environments``, ``data``
or ``pipelines``::

    <kind>/<name>/<version>.json   record, created once, never rewritten
    <kind>/<name>/labels/<label>   the version a label points at, replaced atomically
    <kind>/<name>/disabled/<ver>   present while the version is disabled
    cas/<ab>/<hash>                snapshot, spec and data blobs (shared with a store there)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from amlrun.errors import SpecError
from amlrun.registry.location import Location
from amlrun.registry.record import DataRecord, EnvRecord, PipelineRecord, Record, Stored
from amlrun.spec.names import folder_name

VERSION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,99}")
LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}")
LATEST = "latest"  # computed: the highest enabled version, never stored
DEFAULT = "default"


def check_version(version: str) -> str:
    if not VERSION.fullmatch(version) or version.endswith("."):
        raise SpecError(
            f"version '{version}' is not a valid version",
            fix="use letters, digits, '.', '_', '+' and '-' (like 1 or 1.2.0)",
        )
    return version


def check_label(label: str) -> str:
    if not LABEL.fullmatch(label):
        raise SpecError(
            f"label '{label}' is not a valid label", fix="use letters, digits, '_', '.' and '-'"
        )
    return label


def version_order(version: str) -> tuple:
    """Numeric parts compare as numbers: 10 > 9 > 1.2 > 1."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.+-]", version))


#: kind folder -> (record type, what a user calls one, the command that registers one)
KINDS: dict[str, tuple[type[Stored], str, str]] = {
    "modules": (Record, "module", "amlrun module register SPEC [--registry URL]"),
    "environments": (EnvRecord, "environment", "amlrun env register NAME:VERSION --conda-file F"),
    "data": (DataRecord, "data asset", "amlrun data register NAME:VERSION PATH_OR_URL"),
    "pipelines": (
        PipelineRecord,
        "published pipeline",
        "amlrun pipeline publish PIPELINE --name N",
    ),
}


class Registry:
    def __init__(self, url: str, workspace: Path, kind: str = "modules") -> None:
        self.loc = Location(url, workspace)
        self.url = self.loc.url
        self.kind = kind
        self.record_type, self.noun, self.register_hint = KINDS[kind]

    def _dir(self, name: str) -> str:
        return f"{self.kind}/{folder_name(name)}"

    # ------------------------------------------------------------ reading
    def names(self) -> list[str]:
        """Registered names (from their records: folder names may be mapped)."""
        out = []
        for folder in self.loc.names(self.kind):
            versions = [n for n in self.loc.names(f"{self.kind}/{folder}") if n.endswith(".json")]
            rec = self.record_at(f"{self.kind}/{folder}/{versions[0]}") if versions else None
            if rec is not None:
                out.append(rec.name)
        return sorted(out)

    def versions(self, name: str, include_disabled: bool = True) -> list[str]:
        found = [n[: -len(".json")] for n in self.loc.names(self._dir(name)) if n.endswith(".json")]
        if not include_disabled:
            disabled = set(self.loc.names(f"{self._dir(name)}/disabled"))
            found = [v for v in found if v not in disabled]
        return sorted(found, key=version_order)

    def record_at(self, rel: str) -> Any:
        """The record stored at ``rel``, or None when there is none."""
        data = self.loc.read(rel)
        return None if data is None else self.record_type.from_bytes(data, f"{self.url}/{rel}")

    def record(self, name: str, version: str) -> Any:
        rel = f"{self._dir(name)}/{check_version(version)}.json"
        rec = self.record_at(rel)
        if rec is not None and (rec.name, rec.version) != (name, version):
            raise SpecError(
                f"{self.url}/{rel} holds {rec.name}:{rec.version}, not {name}:{version}",
                fix="the registry was edited by hand; re-register the version",
            )
        return rec

    def is_disabled(self, name: str, version: str) -> bool:
        return self.loc.read(f"{self._dir(name)}/disabled/{check_version(version)}") is not None

    def label(self, name: str, label: str) -> str | None:
        """The version ``label`` points at; ``default`` falls back to ``latest``."""
        if label == LATEST:
            enabled = self.versions(name, include_disabled=False)
            return enabled[-1] if enabled else None
        data = self.loc.read(f"{self._dir(name)}/labels/{check_label(label)}")
        if data is not None:
            return data.decode().strip()
        return self.label(name, LATEST) if label == DEFAULT else None

    def labels(self, name: str) -> dict[str, str]:
        out = {lb: self.label(name, lb) or "" for lb in self.loc.names(f"{self._dir(name)}/labels")}
        out.setdefault(DEFAULT, self.label(name, DEFAULT) or "")
        out[LATEST] = self.label(name, LATEST) or ""
        return out

    # ------------------------------------------------------------ writing
    def add(self, record: Stored, blobs: list[str]) -> bool:
        """Create the version; False when identical content is already there (a no-op).

        Its ``blobs`` are pinned first, so a store sharing this location never collects them.
        """
        rel = f"{self._dir(record.name)}/{check_version(record.version)}.json"
        self.loc.create(f"pins/{self.kind}-{record.digest}", "\n".join(sorted(blobs)).encode())
        if self.loc.create(rel, record.to_bytes()):
            # the first version registered is the default until set-default (az ml module)
            self.loc.create(f"{self._dir(record.name)}/labels/{DEFAULT}", record.version.encode())
            return True
        existing = self.record_at(rel)
        if existing is None:
            raise SpecError(f"{self.url}/{rel} was removed while being registered; try again")
        if existing.digest == record.digest:
            return False
        raise SpecError(
            f"{self.noun} {record.name} version {record.version} is already registered in "
            f"{self.url} with different content (registered {existing.digest}, "
            f"this one {record.digest})",
            fix="versions are immutable: bump the version in the spec and register again",
        )

    def set_label(self, name: str, label: str, version: str) -> None:
        if check_label(label) == LATEST:
            raise SpecError("'latest' is computed (the highest enabled version), not set")
        self._require(name, version)
        self.loc.replace(f"{self._dir(name)}/labels/{label}", version.encode())

    def set_disabled(self, name: str, version: str, disabled: bool) -> None:
        self._require(name, version)
        rel = f"{self._dir(name)}/disabled/{version}"
        if disabled:
            self.loc.replace(rel, b"disabled\n")
        else:
            self.loc.delete(rel)

    def _require(self, name: str, version: str) -> Stored:
        rec = self.record(name, version)
        if rec is None:
            have = ", ".join(self.versions(name)) or "none"
            raise SpecError(
                f"{self.noun} {name} has no version {version} in registry {self.url}",
                fix=f"use one of the registered versions: {have}",
            )
        return rec
