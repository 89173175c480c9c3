"""Moving module content in and out of a registry: blobs to ``cas/``, records, checkouts."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from amlrun.errors import Diagnostics, SpecError
from amlrun.registry.record import Record, environment_data, environment_from
from amlrun.registry.registry import Registry, check_version
from amlrun.spec.model import Code, Module


def cas_of(registry: Registry):
    """The registry's blobs, as a store (a store configured at the same URL shares them)."""
    from amlrun.cache.store import open_store

    return open_store(registry.loc.cas_url(), Path.cwd())


def registry_name(module: Module) -> str:
    """v1 modules are known by namespace and name (``Module.load(ws, namespace, name)``)."""
    return (
        f"{module.namespace}/{module.name}"
        if module.format == "v1" and module.namespace
        else module.name
    )


def publish(registry: Registry, module: Module, source: str) -> tuple[Record, bool]:
    """Store ``module``'s spec and snapshot; (record, created). Blobs go first, record last."""
    from amlrun.snapshot import take_snapshot

    if module.source is None:
        raise SpecError(f"module {module.name} has no spec file to register")
    if not module.version:
        raise SpecError(
            f"module {module.name} has no version",
            file=module.source,
            fix="add version: 1 to the spec (registered versions are immutable)",
        )
    if module.code.missing:
        raise SpecError(
            f"the code folder {module.code.missing} does not exist",
            file=module.source,
            fix="register the module with its scripts",
        )
    snap = take_snapshot(module.code)
    cas = cas_of(registry)
    for f in snap.files:
        cas.put_file(f.abspath, f.hash)
    record = Record(
        name=registry_name(module),
        version=check_version(str(module.version)),
        spec_name=module.source.name,
        spec_blob=cas.put_bytes(module.source.read_bytes()),
        tree_hash=snap.tree_hash,
        files=snap.entries(),
        environment=environment_data(module.environment),
        source=source,
    )
    blobs = [record.spec_blob, *(h for h, _, _ in record.files.values())]
    return record, registry.add(record, blobs)


def checkout(registry: Registry, record: Record, dest: Path) -> tuple[Path, Path]:
    """Write the version's spec and snapshot under ``dest``: (spec file, snapshot folder)."""
    cas = cas_of(registry)
    tree, spec = dest / "snapshot", dest / "spec" / record.spec_name
    if not tree.is_dir():
        cas.materialize(record.files, tree, is_file=False)
    if not spec.is_file():
        spec.parent.mkdir(parents=True, exist_ok=True)
        tmp = spec.with_name(f".{spec.name}.{os.getpid()}.{os.urandom(4).hex()}")
        tmp.write_bytes(cas.get_bytes(record.spec_blob))
        tmp.replace(spec)
    return spec, tree


def load_checkout(registry: Registry, record: Record, cache: Path) -> Module:
    """The registered module, running from a private copy keyed by its content digest.

    Its environment is the one recorded at registration (its files may not have travelled);
    the spec's own warnings were shown then too.
    """
    from amlrun.spec import yamlio
    from amlrun.spec.load import module_from_doc

    spec, tree = checkout(registry, record, cache / record.digest)
    module = module_from_doc(yamlio.load(spec), spec, Diagnostics())
    return replace(module, code=Code(root=tree), environment=environment_from(record.environment))
