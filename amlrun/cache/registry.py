"""Which store class serves a URL protocol: one table, each class imported when first used.

As fsspec's ``known_implementations``: protocol -> dotted class path, so opening a local
store never imports fsspec, s3fs or adlfs, and a new kind of store is one line here plus its
module. A protocol missing from the table is handed to fsspec as it is (gs://, sftp://, ...).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from amlrun.errors import SpecError

if TYPE_CHECKING:
    from amlrun.cache.base import Store

KNOWN_STORES: dict[str, str] = {
    "": "amlrun.cache.local.LocalStore",
    "file": "amlrun.cache.local.LocalStore",
    "memory": "amlrun.cache.remote.ObjectStore",
    "gs": "amlrun.cache.remote.ObjectStore",
    "gcs": "amlrun.cache.remote.ObjectStore",
    "s3": "amlrun.cache.s3.S3Store",
    "s3a": "amlrun.cache.s3.S3Store",
    "abfs": "amlrun.cache.azure.AzureStore",
    "abfss": "amlrun.cache.azure.AzureStore",
    "az": "amlrun.cache.azure.AzureStore",
}
FALLBACK = "amlrun.cache.remote.FsspecStore"
CONFIG_TABLE = "[tool.amlrun.stores]"


@dataclass(frozen=True)
class OpenContext:
    """What opening one store needs besides its URL."""

    workspace: Path
    read_only: bool
    link: str


def protocol(spec: str) -> str:
    """``s3`` for ``s3://b/p``; ``""`` for a plain path (``C:\\x`` is a path, not a URL)."""
    scheme, sep, _ = spec.partition("://")
    return scheme.lower() if sep and len(scheme) > 1 else ""


def store_class(proto: str) -> type[Store]:
    module, _, name = KNOWN_STORES.get(proto, FALLBACK).rpartition(".")
    return getattr(importlib.import_module(module), name)


def open_url(spec: str, ctx: OpenContext) -> Store:
    """The one store ``spec`` (a folder or URL, without ``?ro``) names."""
    proto = protocol(spec)
    if proto:
        refuse_credentials(spec)
    return store_class(proto).open(spec, ctx)


def refuse_credentials(url: str) -> None:
    """A store URL is recorded in runs and shown in logs, so it must never carry a secret."""
    parts = urlsplit(url)
    if parts.username or parts.password or parts.query:
        raise SpecError(
            f"store URL {_redacted(url)!r} carries credentials or options",
            field="--store / [tool.amlrun] store",
            fix="give credentials through the storage library's environment variables "
            "(AWS_*, AZURE_STORAGE_*) and settings in [tool.amlrun.stores]; end a layer "
            "with '?ro' only",
        )


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{parts.path}" + ("?…" if parts.query else "")


#: option names that hold a secret: refused in config files, which are committed to git
_SECRET_WORDS = ("key", "secret", "password", "token", "credential", "connection_string")


def kind_settings(kind: str, ctx: OpenContext) -> dict[str, Any]:
    """``[tool.amlrun.stores.<kind>]``, checked to hold no credentials."""
    table = _settings_of(ctx.workspace).get(kind) or {}
    if not isinstance(table, Mapping):
        raise SpecError(
            f"{CONFIG_TABLE} {kind} must be a table of settings",
            field=f"tool.amlrun.stores.{kind}",
            fix=f'write [tool.amlrun.stores.{kind}] with lines like name = "value"',
        )
    for name in table:
        if any(word in str(name).lower() for word in _SECRET_WORDS):
            raise SpecError(
                f"{CONFIG_TABLE} {kind}.{name} looks like a credential",
                field=f"tool.amlrun.stores.{kind}.{name}",
                fix="credentials belong in the environment (AWS_*, AZURE_STORAGE_*), "
                "never in a file that is committed",
            )
    return dict(table)


def _settings_of(workspace: Path) -> Mapping[str, Mapping[str, Any]]:
    """The workspace's ``[tool.amlrun.stores]`` (read only when a remote store is opened)."""
    from amlrun.workspace import Workspace

    stores = Workspace(Path(os.path.abspath(workspace))).config.get("stores") or {}
    if not isinstance(stores, Mapping):
        raise SpecError(
            f"{CONFIG_TABLE} must be a table",
            field="tool.amlrun.stores",
            fix="write [tool.amlrun.stores.s3] / [tool.amlrun.stores.azure] tables",
        )
    return stores
