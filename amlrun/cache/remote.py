"""A store at any fsspec URL (s3://, gs://, abfs://, memory://, ...).

Object stores make a single put atomic (the object appears whole or not at all), so blobs and
manifests are written in one request; other filesystems get a temporary name and a move.
Downloaded blobs are re-hashed (they are read anyway) and manifests checked for shape: a shared
store is not trusted to hand back the bytes asked for.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, ClassVar

from amlrun.cache.base import MissingBlob, Placement, Store, blob_rel, corrupt_blob, manifest_rel
from amlrun.cache.manifest import (
    BadManifest,
    is_blob_name,
    manifest_problems,
    parse_manifest,
    referenced_blobs,
    warn,
)
from amlrun.cache.manifest_cache import ManifestCache
from amlrun.cache.registry import OpenContext, kind_settings, protocol
from amlrun.cache.sample import Sample
from amlrun.cache.signing import signed_by_secret, trusted
from amlrun.hashing import hash_bytes, hash_file

_CHUNK = 8 * 1024 * 1024


class FsspecStore(Store):
    """Any fsspec filesystem; each write lands under a temporary name and is then moved."""

    is_local = False
    #: a single put appears whole or not at all (object stores): no temporary name needed
    atomic_put: ClassVar[bool] = False
    #: where read manifests are kept on local disk (set by ``open_store``), or None
    manifest_cache: ManifestCache | None = None
    #: ``cat`` options for small objects (manifests, the index)
    small_read: ClassVar[dict[str, Any]] = {}

    def __init__(self, url: str, read_only: bool = False, **options: Any) -> None:
        from fsspec.core import url_to_fs  # lazy: only remote stores pay for fsspec

        self.read_only = read_only
        self.url = url + ("?ro" if read_only else "")
        self.fs, root = url_to_fs(url, **options)
        self.root = root.rstrip("/")

    @classmethod
    def open(cls, url: str, ctx: OpenContext) -> Store:
        """Settings from ``[tool.amlrun.stores.<protocol>]``; fsspec's own config applies too."""
        return cls(url, ctx.read_only, **kind_settings(protocol(url), ctx))

    def _path(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    # ------------------------------------------------------------ manifests
    def has_manifest(self, key: str) -> bool:
        return self.fs.exists(self._path(manifest_rel(key)))

    def get_manifest(self, key: str) -> dict | None:
        """Absent or malformed reads as None; an unreachable store raises (rerunning won't help).

        Blobs are not checked here (that would download them): each is re-hashed when fetched.
        A manifest read once is kept locally (:mod:`amlrun.cache.manifest_cache`).
        """
        rel = manifest_rel(key)
        cache = self.manifest_cache
        kept = cache.get(key) if cache else None
        if kept is not None and cache is not None:  # checked as if just downloaded, quietly:
            try:  # one that fails is dropped and the store asked
                manifest = parse_manifest(kept, key)
                if signed_by_secret(manifest):
                    return manifest
            except BadManifest:
                pass
            cache.drop(key)
        try:
            data = self.fs.cat_file(self._path(rel), **self.small_read)
        except FileNotFoundError:
            return None
        try:
            manifest = parse_manifest(data, key)
        except BadManifest as exc:
            warn(f"store {self.url}: {rel}: {exc}; the step will rerun", f"{self.url}/{rel}")
            return None
        if not trusted(manifest, self.url, rel):
            return None
        if cache:
            cache.put(key, data)
        return manifest

    def step_keys(self) -> list[str]:
        names = (path.rsplit("/", 1)[-1] for path in self._find("steps"))
        return sorted(name[:-5] for name in names if name.endswith(".json"))

    def _write_manifest(self, key: str, data: bytes) -> None:
        self._pipe(self._path(manifest_rel(key)), data)

    # ------------------------------------------------------------ blobs
    def has_blob(self, h: str) -> bool:
        return self.fs.exists(self._path(blob_rel(h)))

    def local_blob_path(self, h: str) -> Path | None:
        return None

    def put_file(self, path: Path, h: str | None = None, move: bool = False) -> str:
        self._check_writable()
        h = h or hash_file(path)
        blob = self._path(blob_rel(h))
        if not self.fs.exists(blob):
            if self.atomic_put:
                self.fs.put_file(os.fspath(path), blob)
            else:
                tmp = f"{blob}.{os.urandom(8).hex()}.tmp"
                self.fs.put_file(os.fspath(path), tmp)
                self.fs.mv(tmp, blob)
        return h

    def put_bytes(self, data: bytes) -> str:
        self._check_writable()
        h = hash_bytes(data)
        blob = self._path(blob_rel(h))
        if not self.fs.exists(blob):
            self._pipe(blob, data)
        return h

    def get_bytes(self, h: str) -> bytes:
        try:
            data = self.fs.cat_file(self._path(blob_rel(h)))
        except FileNotFoundError:
            raise MissingBlob(f"blob {h} is not in store {self.url}", (h,)) from None
        if hash_bytes(data) != h:
            raise corrupt_blob(h, self.url, "returned bytes that hash to something else")
        return data

    def _place(self, items: list[Placement], copy: bool = False) -> None:
        """Download in one batch (async filesystems fetch concurrently), then check each file."""
        if not items:
            return
        try:
            self.fs.get(
                [self._path(blob_rel(h)) for h, _, _, _ in items],
                [os.fspath(p) for _, p, _, _ in items],
            )
        except FileNotFoundError as exc:
            missing = tuple(h for h, _, _, _ in items if not self.has_blob(h))
            if not missing:
                raise
            raise MissingBlob(f"blob {missing[0]} is not in store {self.url}", missing) from exc
        for h, dest, mode, size in items:
            if not os.path.isfile(dest) or os.path.islink(dest):
                raise corrupt_blob(h, self.url, "did not download as a regular file")
            actual = hash_file(dest)
            if actual != h or (size is not None and os.path.getsize(dest) != size):
                raise corrupt_blob(h, self.url, f"returned bytes that hash to {actual}")
            os.chmod(dest, mode)

    def _pipe(self, path: str, data: bytes) -> None:
        if self.atomic_put:
            self.fs.pipe_file(path, data)
        else:
            tmp = f"{path}.{os.urandom(8).hex()}.tmp"
            self.fs.pipe_file(tmp, data)
            self.fs.mv(tmp, path)

    # ------------------------------------------------------------ maintenance
    def _find(self, rel: str) -> dict[str, dict]:
        try:
            return self.fs.find(self._path(rel), detail=True)
        except FileNotFoundError:
            return {}

    def verify(self, repair: bool = False, sample: Sample | None = None) -> list[str]:
        """A blob left out of the ``sample`` counts as good: only one seen bad drops an entry."""
        if repair:
            self._check_writable()
        problems: list[str] = []
        present: set[str] = set()
        good: set[str] = set()
        paths = list(self._find("cas"))
        picked = (sample or Sample()).pick(p.rsplit("/", 1)[-1] for p in paths)
        for path in paths:
            rel = path[len(self.root) + 1 :] if path.startswith(self.root) else path
            name = path.rsplit("/", 1)[-1]
            if name.endswith(".tmp"):
                continue
            if not is_blob_name(name) or blob_rel(name) != rel:
                problems.append(f"{rel}: not a blob name or in the wrong folder")
                continue
            present.add(name)
            actual = self._hash_remote(path) if name in picked else name
            if actual == name:
                good.add(name)
                continue
            problems.append(f"{rel}: corrupt, its content hashes to {actual}")
            if repair:
                self.fs.mv(path, self._path(f"quarantine/{name}.{os.urandom(4).hex()}"))
                problems[-1] += f"; moved to {self.root}/quarantine"
        for path in self._find("steps"):
            if not path.endswith(".json"):
                continue
            rel = "steps/" + path.rsplit("/", 1)[-1]
            found = manifest_problems(
                self, rel, self.fs.cat_file(path), good if repair else present
            )
            if found and repair:
                self.fs.rm_file(path)
                found = [f"{found[0]} (entry dropped)"]
            problems += found
        return problems

    def _hash_remote(self, path: str) -> str:
        import xxhash

        digest = xxhash.xxh3_128()
        with self.fs.open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def gc(self, older_than_s: float, keep: frozenset[str] = frozenset()) -> tuple[int, int]:
        """Age is the last write: reading a remote manifest does not refresh it."""
        self._check_writable()
        cutoff = time.time() - older_than_s
        keep: set[str] = set()
        dead: list[str] = []
        for path, info in self._find("steps").items():
            if not path.endswith(".json"):
                continue
            try:
                refs = referenced_blobs(parse_manifest(self.fs.cat_file(path)))
            except BadManifest:
                dead.append(path)
                continue
            key = path.rsplit("/", 1)[-1].removesuffix(".json")
            if _mtime(info) < cutoff and key not in keep:
                dead.append(path)
            else:
                keep.update(refs)
        if dead:
            self.fs.rm(dead)
        from amlrun.cache.upkeep import pinned_blobs

        keep.update(pinned_blobs([self.fs.cat_file(p) for p in self._find("pins")]))
        blobs = [
            path
            for path, info in self._find("cas").items()
            if path.rsplit("/", 1)[-1] not in keep and _mtime(info) < cutoff
        ]
        if blobs:
            self.fs.rm(blobs)
        return len(dead), len(blobs)


def _mtime(info: dict) -> float:
    """Last-modified time from an fsspec info dict (keys differ per filesystem); unknown = now."""
    from datetime import datetime

    for key in ("mtime", "LastModified", "last_modified", "modified", "created"):
        value = info.get(key)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value).timestamp()
            except ValueError:
                continue
    return time.time()


class ObjectStore(FsspecStore):
    """An object store (memory://, gs://, ...): blobs and manifests go up in one put."""

    atomic_put = True
