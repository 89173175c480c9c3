"""Environments and data assets in a registry: registering them, and using a version.

An environment version stores the definition it resolved to (conda, pip lines, image); a
build context is stored as content and checked out where it is used. A data asset stores a
local file or folder as content (a version never changes under a pipeline) or a remote URL.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from amlrun.errors import SpecError
from amlrun.hashing import file_mode
from amlrun.registry.publish import cas_of
from amlrun.registry.record import DataRecord, EnvRecord, environment_data, environment_from
from amlrun.registry.registry import Registry, check_version
from amlrun.spec.model import Environment


def split_name(ref: str) -> tuple[str, str]:
    """``NAME:VERSION`` (a version is required: registered versions are immutable)."""
    name, sep, version = ref.removeprefix("azureml:").rpartition(":")
    if not sep or not name:
        raise SpecError(f"'{ref}' is not NAME:VERSION", fix="write e.g. sklearn-env:1")
    return name, check_version(version)


def _store(registry: Registry, path: Path) -> dict[str, list]:
    """Put a file or folder's content in the registry's cas/; its entries (a file by name)."""
    cas = cas_of(registry)
    if path.is_file():
        st = path.stat()
        return {path.name: [cas.put_file(path), st.st_size, file_mode(st.st_mode)]}
    entries, _ = cas.put_tree(path)
    return entries


def register_environment(
    registry: Registry, ref: str, env: Environment, build: Path | None, source: str
) -> tuple[EnvRecord, bool]:
    name, version = split_name(ref)
    if build is not None:
        if not build.is_dir():
            raise SpecError(f"--build {build} is not a folder", fix="give a Docker build context")
        data = {"kind": "build", "dockerfile": env.dockerfile}
        record = EnvRecord(name, version, data, _store(registry, build), source)
    else:
        record = EnvRecord(name, version, environment_data(env), None, source)
    return record, registry.add(record, _blobs(record.files))


def register_data(
    registry: Registry, ref: str, target: str, source: str
) -> tuple[DataRecord, bool]:
    name, version = split_name(ref)
    if "://" in target:
        record = DataRecord(name, version, url=target, source=source)
    else:
        path = Path(target)
        if not path.exists():
            raise SpecError(f"{target} does not exist", fix="give a local file or folder, or a URL")
        record = DataRecord(
            name, version, files=_store(registry, path), is_file=path.is_file(), source=source
        )
    return record, registry.add(record, _blobs(record.files))


def _blobs(files: dict[str, list] | None) -> list[str]:
    return [h for h, _, _ in (files or {}).values()]


def checkout_files(registry: Registry, files: dict[str, list], dest: Path) -> Path:
    """Stored entries as a folder named by their digest (reused once written)."""
    if not dest.is_dir():
        cas_of(registry).materialize(files, dest, is_file=False)
    return dest


def environment_of(registry: Registry, record: EnvRecord, cache: Path) -> Environment:
    if record.files is None:
        return environment_from(record.environment)
    context = checkout_files(registry, record.files, cache / "env" / record.digest)
    return Environment(
        kind="build", build_context=os.fspath(context), dockerfile=record.environment["dockerfile"]
    )


def data_path(registry: Registry, record: DataRecord, cache: Path) -> str:
    """Where a pipeline reads the asset: its URL, or a private checkout of its content."""
    if record.url is not None:
        return record.url
    folder = checkout_files(registry, record.files or {}, cache / "data" / record.digest)
    return (
        os.fspath(folder / next(iter(record.files or {}))) if record.is_file else os.fspath(folder)
    )


def with_environment(env: Environment, resolved: Environment) -> Environment:
    """A component's own environment variables stay on the registered environment."""
    return dataclasses.replace(resolved, variables=env.variables)
