"""``s3://`` through s3fs: AWS, MinIO, moto, configured the way the AWS tools are.

Credentials come from the usual AWS chain (``AWS_ACCESS_KEY_ID``, profiles, roles). The
endpoint comes from ``[tool.amlrun.stores.s3] endpoint_url`` or the variables the AWS SDKs
read; s3fs's listings cache is off, as its stale listings make ``exists`` miss what another
process wrote.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from amlrun.cache.base import Store
from amlrun.cache.registry import OpenContext, kind_settings
from amlrun.cache.remote import ObjectStore

_ENDPOINT_VARS = ("FSSPEC_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")


class S3Store(ObjectStore):
    #: a manifest is small: one GET, without the HEAD s3fs sends to split large objects
    small_read: ClassVar[dict[str, Any]] = {"max_concurrency": 1}

    @classmethod
    def open(cls, url: str, ctx: OpenContext) -> Store:
        return cls(url, ctx.read_only, **s3_options(kind_settings("s3", ctx)))


def s3_options(settings: dict[str, Any]) -> dict[str, Any]:
    """s3fs keyword arguments: ``endpoint_url`` goes to the botocore client."""
    opts: dict[str, Any] = {"use_listings_cache": False, **settings}
    endpoint = opts.pop("endpoint_url", None) or next(
        (os.environ[v] for v in _ENDPOINT_VARS if os.environ.get(v)), None
    )
    if endpoint:
        opts["client_kwargs"] = {**opts.get("client_kwargs", {}), "endpoint_url": endpoint}
    return opts
