"""Published pipelines in the workspace registry: frozen file trees behind versioned names.

A version is a :class:`PipelineRecord` (create-only, like a module version) whose files are
blobs in the registry's ``cas/``; the ``default`` label picks the version a bare name runs
and disabled marks refuse versions, as Azure ML's PipelineEndpoint does. Loading the pipeline
is the caller's business (this layer sits below the loaders): it gets a checkout folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from amlrun.errors import SpecError
from amlrun.registry.layered import WORKSPACE_REGISTRY
from amlrun.registry.publish import cas_of
from amlrun.registry.record import PipelineRecord
from amlrun.registry.registry import DEFAULT, Registry, check_version

CHECKOUTS = "registry-cache/pipelines"  # under .amlrun/, one folder per record digest


def pipeline_registry(workspace_root: Path) -> Registry:
    """Published pipelines live in the workspace registry (the server runs from there)."""
    return Registry(WORKSPACE_REGISTRY, workspace_root, kind="pipelines")


def next_version(registry: Registry, name: str) -> str:
    """One more than the highest integer version (1 for the first), as PipelineEndpoint."""
    numbers = [int(v) for v in registry.versions(name) if v.isdigit()]
    return str(max(numbers, default=0) + 1)


def store_frozen(
    registry: Registry,
    files: dict[str, Path],
    pipeline: str,
    interface: dict[str, Any],
    *,
    name: str,
    version: str | None,
    description: str,
    source: str,
) -> tuple[PipelineRecord, bool]:
    """Blobs first, the record last; (record, created). Without a version, identical content
    already published under ``name`` is that version again, else the next integer."""
    cas = cas_of(registry)
    entries = {}
    for rel, path in sorted(files.items()):
        st = os.stat(path)
        h = cas.put_file(path)
        entries[rel] = [h, st.st_size, 0o755 if st.st_mode & 0o111 else 0o644]

    def record(v: str) -> PipelineRecord:
        return PipelineRecord(
            name=name,
            version=check_version(v),
            pipeline=pipeline,
            files=entries,
            interface=interface,
            description=description,
            source=source,
        )

    if version is None:
        for v in reversed(registry.versions(name)):
            existing = registry.record(name, v)
            if existing is not None and existing.digest == record(v).digest:
                return existing, False
        version = next_version(registry, name)
    rec = record(version)
    blobs = [h for h, _size, _mode in entries.values()]
    return rec, registry.add(rec, blobs)


def find_version(registry: Registry, name: str, version: str | None = None) -> PipelineRecord:
    """The version to run: ``version``, else the default; a disabled one is refused."""
    versions = registry.versions(name)
    if not versions:
        have = ", ".join(registry.names()) or "none"
        raise SpecError(
            f"no published pipeline named '{name}'",
            field="name",
            fix=f"publish it with amlrun pipeline publish PIPELINE --name {name} "
            f"(published: {have})",
        )
    chosen = version or registry.label(name, DEFAULT)
    rec = registry.record(name, chosen) if chosen else None
    if rec is None:
        raise SpecError(
            f"published pipeline {name} has no version {chosen}",
            field="version",
            fix="use one of: " + ", ".join(versions),
        )
    if registry.is_disabled(name, rec.version):
        raise SpecError(
            f"published pipeline {name} version {rec.version} is disabled",
            field="version",
            fix=f"enable it (amlrun pipeline endpoint enable {name}:{rec.version}) "
            "or submit another version",
        )
    return rec


def version_rows(registry: Registry, name: str) -> list[dict[str, Any]]:
    """Each published version of ``name`` as plain data (``endpoint show``, the REST API)."""
    default = registry.labels(name)["default"]
    rows = []
    for v in registry.versions(name):
        rec = registry.record(name, v)
        rows.append(
            {
                "version": v,
                "default": v == default,
                "disabled": registry.is_disabled(name, v),
                "digest": rec.digest,
                "description": rec.description,
                "files": len(rec.files),
                **rec.interface,
            }
        )
    return rows


def checkout_frozen(registry: Registry, record: PipelineRecord, amlrun_dir: Path) -> Path:
    """The version's files (read-only) under a folder named by its digest; returns its
    pipeline file. ``.complete``, written last, marks a checkout that was not cut short."""
    dest = amlrun_dir / CHECKOUTS / record.digest
    if not (dest / ".complete").is_file():
        cas_of(registry).materialize(record.files, dest, is_file=False)  # built aside, swapped
        (dest / ".complete").write_text(record.version)
    return dest / record.pipeline
