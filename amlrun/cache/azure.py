"""``abfs://`` / ``az://`` (Azure Blob Storage, Data Lake Gen2) through adlfs.

``abfs://container/prefix``; the account and credentials come from adlfs's environment
variables (``AZURE_STORAGE_CONNECTION_STRING``, ``AZURE_STORAGE_ACCOUNT_NAME`` with
``AZURE_STORAGE_ACCOUNT_KEY`` or ``AZURE_STORAGE_SAS_TOKEN``, service principals through
``AZURE_STORAGE_CLIENT_*``), or the account from ``[tool.amlrun.stores.azure]``
(``account_name``, ``account_host``, ``anon``). Without a key adlfs falls back to the
machine's Azure identity.
"""

from __future__ import annotations

from amlrun.cache.base import Store
from amlrun.cache.registry import OpenContext, kind_settings
from amlrun.cache.remote import ObjectStore


class AzureStore(ObjectStore):
    @classmethod
    def open(cls, url: str, ctx: OpenContext) -> Store:
        return cls(url, ctx.read_only, **kind_settings("azure", ctx))
