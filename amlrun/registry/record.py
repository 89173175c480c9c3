"""Registered versions (modules, environments, data): what is stored, and their digests.

A module record keeps the spec's bytes, the snapshot's entries (blobs in ``cas/``) and the
environment the spec resolved to where it was registered (its conda or pip files may live
outside the snapshot). A digest covers all of a record but where it came from: identical
content, identical digest.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, TypeVar

from amlrun.errors import SpecError
from amlrun.hashing import hash_json
from amlrun.spec.model import Environment

RECORD_VERSION = 1
_S = TypeVar("_S", bound="Stored")


class Stored:
    """Shared by every kind of record: JSON on disk, identified by a digest of its content."""

    name: str
    version: str

    @property
    def digest(self) -> str:
        """Everything but ``source`` (where it came from says nothing about what it is)."""
        doc = dataclasses.asdict(self)  # type: ignore[call-overload]
        doc.pop("source", None)
        return hash_json(doc)

    def to_bytes(self) -> bytes:
        doc = dataclasses.asdict(self)  # type: ignore[call-overload]
        doc = {"v": RECORD_VERSION, **doc, "digest": self.digest}
        return json.dumps(doc, indent=1, sort_keys=True).encode()

    @classmethod
    def from_bytes(cls: type[_S], data: bytes, where: str) -> _S:
        try:
            doc = json.loads(data)
            if doc.pop("v") != RECORD_VERSION:
                raise ValueError("unknown record version")
            stored = doc.pop("digest")
            rec = cls(**doc)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise SpecError(
                f"malformed registry record ({exc})", file=where, fix="re-register the version"
            ) from None
        if rec.digest != stored:
            raise SpecError(
                f"registry record says digest {stored} but its content hashes to {rec.digest}",
                file=where,
                fix="the record was edited; re-register the version under a new number",
            )
        return rec


@dataclass(frozen=True)
class Record(Stored):
    """A module version."""

    name: str
    version: str
    spec_name: str  # file name the spec is written back under
    spec_blob: str  # content hash of the spec's bytes in cas/
    tree_hash: str
    files: dict[str, list]  # relpath -> [hash, size, mode]
    environment: dict[str, Any]
    source: str = ""  # where it was registered from, for people

    def __post_init__(self) -> None:
        """A record may come from anyone's registry: its spec name becomes a file name."""
        name = self.spec_name
        if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
            raise ValueError(f"spec_name {name!r} is not a plain file name")


@dataclass(frozen=True)
class EnvRecord(Stored):
    """An environment version: the resolved definition (conda, pip, image) as plain data."""

    name: str
    version: str
    environment: dict[str, Any]
    files: dict[str, list] | None = None  # a --build context, checked out where it is used
    source: str = ""


@dataclass(frozen=True)
class DataRecord(Stored):
    """A data asset version: stored content (a local file or folder) or a remote URL."""

    name: str
    version: str
    url: str | None = None
    files: dict[str, list] | None = None
    is_file: bool = False
    source: str = ""


@dataclass(frozen=True)
class PipelineRecord(Stored):
    """A published pipeline version: its YAML and every file it loads or runs, frozen.

    ``files`` are paths relative to the workspace root, so a checkout loads exactly as the
    source did (keys hold no absolute paths: a run of the checkout reuses the source's
    results); ``interface`` lists its parameters and data inputs for callers.
    """

    name: str
    version: str
    pipeline: str  # posix path of the pipeline file among ``files``
    files: dict[str, list]  # relpath -> [hash, size, mode]
    interface: dict[str, Any]
    description: str = ""
    source: str = ""


def environment_data(env: Environment) -> dict[str, Any]:
    """The environment as plain JSON; a build context is a local folder and cannot travel."""
    if env.kind == "build":
        raise SpecError(
            f"a module built from a Docker context ({env.build_context}) cannot be registered",
            fix="register an image name, a conda file or pip requirements instead",
        )
    return json.loads(json.dumps(dataclasses.asdict(env)))


def environment_from(data: dict[str, Any]) -> Environment:
    """The recorded definition; never a build context (a path on the registering machine)."""
    try:
        if data.get("kind") == "build" or data.get("build_context"):
            raise ValueError("a build context is a local path")
        return Environment(
            **{
                **data,
                "pip": tuple(data.get("pip") or ()),
                "variables": tuple(tuple(v) for v in data.get("variables") or ()),
            }
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise SpecError(
            f"malformed environment in a registry record ({exc})",
            fix="re-register the version",
        ) from None
