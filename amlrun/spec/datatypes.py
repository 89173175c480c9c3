"""Port data types: the built-ins, and which output types an input accepts.

A type is a kind (a file or a directory) plus parents. An output connects to an input that
accepts its type or one of its ancestors (v1, like the Designer); a v2 asset type
(``uri_folder``, ``mltable``, ...) accepts any type of its kind, because Azure ML v2 hands the
command a path and lets it mix them. ``path`` (the 2021 preview) connects to anything.
Custom types are registered (``amlrun datatype register``); the catalog asks a lookup for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DataType:
    name: str
    is_file: bool
    parents: tuple[str, ...] = ()
    description: str = ""
    v2: bool = False  # a v2 asset type: accepts any type of its kind


def _v1(name: str, is_file: bool, description: str) -> DataType:
    return DataType(name, is_file, ("AnyFile" if is_file else "AnyDirectory",), description)


def _v2(name: str, is_file: bool, description: str) -> DataType:
    parent = "AnyFile" if is_file else "AnyDirectory"
    return DataType(name, is_file, (parent,), description, v2=True)


WILDCARD = "path"  # the 2021 preview type: a file or a folder, connects to anything

BUILTIN: dict[str, DataType] = {
    t.name.lower(): t
    for t in (
        DataType("AnyDirectory", False, (), "any folder (the root of folder types)"),
        DataType("AnyFile", True, (), "any file (the root of file types)"),
        _v1("DataFrameDirectory", False, "parquet data with _meta.yaml and a schema"),
        _v1("ModelDirectory", False, "a trained model"),
        _v1("UntrainedModelDirectory", False, "an untrained model"),
        _v1("TransformationDirectory", False, "a fitted transformation"),
        _v1("ImageDirectory", False, "images"),
        _v1("AzureMLDataset", False, "a registered dataset"),
        _v1("CsvFile", True, "a CSV file"),
        _v1("ZipFile", True, "a zip file"),
        _v2("uri_folder", False, "a folder"),
        _v2("mltable", False, "a folder holding an MLTable file"),
        _v2("mlflow_model", False, "an MLflow model folder"),
        _v2("custom_model", False, "a model folder in any format"),
        _v2("triton_model", False, "a Triton model repository"),
        _v2("uri_file", True, "a file"),
        DataType(WILDCARD, False, (), "a file or a folder (2021 preview)", v2=True),
    )
}

#: lower-cased names of the built-in file types (custom ones come from their registration)
FILE_TYPES = frozenset(k for k, t in BUILTIN.items() if t.is_file)


def parts(type_: str) -> list[str]:
    """The types a port lists (a v1 input may accept several: ``A|B``)."""
    return [p.strip() for p in type_.split("|") if p.strip()]


class Catalog:
    """Built-in types first (case-insensitive), then ``lookup`` (registered custom types)."""

    def __init__(self, lookup: Callable[[str], DataType | None] = lambda name: None) -> None:
        self.lookup = lookup
        self._seen: dict[str, DataType | None] = {}

    def get(self, name: str) -> DataType | None:
        if name.lower() in BUILTIN:
            return BUILTIN[name.lower()]
        if name not in self._seen:
            self._seen[name] = self.lookup(name)
        return self._seen[name]

    def lineage(self, name: str) -> list[str]:
        """``name`` and all its ancestors, nearest first."""
        found: list[str] = []
        todo = [name]
        while todo:
            current = self.get(todo.pop(0))
            if current is not None and current.name not in found:
                found.append(current.name)
                todo.extend(current.parents)
        return found

    def connects(self, output: str, accepted: str) -> bool:
        """May an output of type ``output`` feed an input that accepts ``accepted``?"""
        outs = [t for t in (self.get(p) for p in parts(output)) if t is not None]
        ins = [t for t in (self.get(p) for p in parts(accepted)) if t is not None]
        if not outs or not ins:
            return True  # unknown types are reported on their own, not as a mismatch
        return any(self._one(o, i) for o in outs for i in ins)

    def _one(self, out: DataType, inp: DataType) -> bool:
        if WILDCARD in (out.name, inp.name):
            return True
        if inp.v2 and inp.is_file == out.is_file:
            return True
        return inp.name.lower() in {n.lower() for n in self.lineage(out.name)}
