"""Opening a cache store from what a user wrote (``--store``, config ``store:``).

The kinds of store live one per module (local, remote, layered); this is where a spec picks
one, and the import everything else uses.
"""

from __future__ import annotations

from pathlib import Path

from amlrun.cache.base import MissingBlob, Store
from amlrun.cache.files import LINK_TYPES
from amlrun.cache.layered import LayeredStore
from amlrun.cache.local import LocalStore
from amlrun.cache.manifest_cache import attach
from amlrun.cache.registry import OpenContext, open_url
from amlrun.cache.signing import secret
from amlrun.errors import AmlrunError, SpecError

__all__ = ["LayeredStore", "LocalStore", "MissingBlob", "Store", "open_store"]

READ_ONLY_SUFFIX = "?ro"
DEFAULT_LINK = "reflink"


def open_store(
    spec: str | list[str] | None,
    workspace: Path,
    read_only: bool = False,
    link: str | None = None,
) -> Store:
    """The store ``spec`` names.

    - None: the workspace's own ``<workspace>/.amlrun/cache``;
    - a folder (relative to ``workspace``) or ``file://`` URL: a local store;
    - any other URL: the store kind its protocol names in
      :data:`amlrun.cache.registry.KNOWN_STORES` (``s3://bucket/prefix``,
      ``abfs://container/prefix``, ``memory://name``), else a generic fsspec store;
    - a list, or layers separated by commas: a :class:`LayeredStore`, first layer first.

    A layer ending in ``?ro`` is read-only. ``read_only=True`` makes a single store
    read-only, and in a layered store every layer after the first (the shared ones): an
    untrusted CI job keeps its own cache but cannot poison the team's. Remote layers keep
    the manifests they read under the local store (:mod:`amlrun.cache.manifest_cache`).
    ``link`` is how local
    layers restore files (``[tool.amlrun] link``; default reflink, else copy).
    """
    link = _link_type(link)
    secret()  # an unreadable AMLRUN_CACHE_SECRET_FILE is bad input before anything runs
    if spec is None:
        amlrun_dir = Path(workspace) / ".amlrun"
        return LocalStore(amlrun_dir / "cache", read_only, link, memo_dir=amlrun_dir)
    specs = spec.split(",") if isinstance(spec, str) else list(spec)
    specs = [s.strip() for s in specs if s and s.strip()]
    if not specs:
        raise AmlrunError(f"empty store spec {spec!r}: name a folder or an fsspec URL")
    if len(specs) == 1:
        store = _open_one(specs[0], workspace, read_only, link)
    else:
        store = LayeredStore(
            [_open_one(s, workspace, read_only and i > 0, link) for i, s in enumerate(specs)]
        )
    attach(store, Path(workspace) / ".amlrun" / "cache")
    return store


def _link_type(link: object) -> str:
    if link is None:
        return DEFAULT_LINK
    if link not in LINK_TYPES:
        raise SpecError(
            f"link {link!r} is not a link type",
            field="[tool.amlrun] link / --link",
            fix=f"use one of: {', '.join(LINK_TYPES)} (default {DEFAULT_LINK})",
        )
    return str(link)


def _open_one(spec: str, workspace: Path, read_only: bool, link: str) -> Store:
    if spec.endswith(READ_ONLY_SUFFIX):
        spec, read_only = spec[: -len(READ_ONLY_SUFFIX)], True
    return open_url(spec, OpenContext(Path(workspace), read_only, link))
