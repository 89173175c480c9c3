"""Custom port data types in the registries: registering one, and the catalog they extend.

A type has one version (``1``): Azure ML's data types are not versioned, and a type whose
kind or parents changed under existing modules would silently rewire their pipelines. So a
second registration with identical content is a no-op, with different content an error.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from amlrun.errors import SpecError
from amlrun.registry.layered import NotRegistered
from amlrun.registry.record import DataTypeRecord
from amlrun.registry.refs import ModuleRef
from amlrun.spec.datatypes import BUILTIN, Catalog, DataType

if TYPE_CHECKING:
    from amlrun.registry.layered import Registries
    from amlrun.registry.registry import Registry

TYPE_VERSION = "1"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,99}")


def as_type(record: DataTypeRecord) -> DataType:
    return DataType(record.name, record.is_file, tuple(record.parents), record.description)


def find_type(regs: Registries, name: str) -> DataType | None:
    """A custom type from the first registry layer that holds it."""
    try:
        found = regs.find(ModuleRef(name, TYPE_VERSION), kind="datatypes")
    except NotRegistered:
        return None
    return as_type(found.record)


def catalog(regs: Registries) -> Catalog:
    return Catalog(lambda name: find_type(regs, name))


def register_datatype(
    target: Registry,
    known: Catalog,
    name: str,
    parents: tuple[str, ...],
    is_file: bool | None,
    description: str,
) -> tuple[DataTypeRecord, bool]:
    """Create ``name``; its parents must exist and be of its kind (the kind defaults to theirs)."""
    if not _NAME.fullmatch(name):
        raise SpecError(
            f"'{name}' is not a valid data type name",
            fix="start with a letter; use letters, digits, '_', '.' and '-' (like SparseMatrix)",
        )
    if name.lower() in BUILTIN:
        raise SpecError(f"{name} is a built-in data type", fix="choose another name")
    found = []
    for p in parents:
        parent = known.get(p)
        if parent is None or p == name:
            raise SpecError(
                f"parent data type '{p}' does not exist",
                fix=f"register it first: amlrun datatype register {p}, or use a built-in "
                "(amlrun datatype list)",
            )
        found.append(parent)
    kinds = {t.is_file for t in found}
    if len(kinds) > 1:
        raise SpecError(
            f"the parents of {name} mix file and folder types",
            fix="give parents of one kind",
        )
    is_file = is_file if is_file is not None else (kinds.pop() if kinds else False)
    for parent in found:
        if parent.is_file != is_file:
            kind = "file" if parent.is_file else "folder"
            raise SpecError(
                f"{name} is a {'file' if is_file else 'folder'} type but its parent "
                f"{parent.name} is a {kind} type",
                fix=f"use --{'file' if parent.is_file else 'directory'} or another parent",
            )
    names = [t.name for t in found]
    record = DataTypeRecord(name, TYPE_VERSION, is_file, names, description)
    existing = target.record(name, TYPE_VERSION)
    if existing is not None and existing.digest != record.digest:
        raise SpecError(
            f"data type {name} is already registered in {target.url} with different content "
            f"(registered {existing.digest}: {_describe(as_type(existing))}; "
            f"this one {record.digest}: {_describe(as_type(record))})",
            fix="data types never change: register the new definition under another name",
        )
    return record, target.add(record, [])


def _describe(t: DataType) -> str:
    kind = "file" if t.is_file else "folder"
    return f"{kind}, parents {', '.join(t.parents) or 'none'}"
