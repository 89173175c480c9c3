"""One registry location's small metadata files: create-only, atomic replace, list, delete.

The same few primitives on a local folder (a hard link from a private temporary name: it
fails if the name exists and never shows a half-written file) and on any fsspec URL
(exclusive create, ``mode="xb"``, which S3 and Azure Blob implement as a conditional put).
"""

from __future__ import annotations

import os
from pathlib import Path

from amlrun.errors import SpecError

#: replaced on every write to a local registry: plans that read it are cached against it
GENERATION = ".generation"


class Location:
    """The files of one registry, addressed by posix paths relative to its root."""

    def __init__(self, url: str, workspace: Path) -> None:
        spec = url[len("file://") :] if url.startswith("file://") else url
        self.url = url
        self.local: Path | None = None
        if "://" not in spec:
            path = Path(os.path.expanduser(spec))
            self.local = path if path.is_absolute() else workspace / path
            self.url = str(self.local)
            return
        from amlrun.cache.registry import OpenContext, open_url

        try:  # the store registry's filesystem: the same settings and credential rules
            store = open_url(spec, OpenContext(workspace, read_only=False, link="copy"))
            self.fs, root = store.fs, store.root
        except (ValueError, ImportError, AttributeError) as exc:
            raise SpecError(
                f"registry {url} cannot be opened: {exc}",
                fix="check the URL; s3:// needs s3fs, abfs:// needs adlfs (pip install amlrun[s3])",
            ) from None
        self.root = root.rstrip("/")

    def watch(self) -> None:
        """Tell the plan cache what a plan read from here depends on: a local registry's
        generation file (replaced by every write), or, for a remote one, that it may change
        at any time."""
        from amlrun.spec.reads import record, volatile

        if self.local is not None:
            record(self.local / GENERATION)
        else:
            volatile()

    def _changed(self) -> None:
        if self.local is not None:
            self.replace(GENERATION, os.urandom(8).hex().encode(), bump=False)

    def _remote(self, rel: str) -> str:
        return f"{self.root}/{rel}"

    def read(self, rel: str) -> bytes | None:
        """The file's bytes, or None when it does not exist."""
        try:
            if self.local is not None:
                return (self.local / rel).read_bytes()
            return self.fs.cat_file(self._remote(rel))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def create(self, rel: str, data: bytes) -> bool:
        """Write ``rel`` only if it does not exist yet; False when another writer was first."""
        if self.local is not None:
            target = self.local / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}")
            tmp.write_bytes(data)
            try:
                os.link(tmp, target)
            except FileExistsError:
                return False
            finally:
                tmp.unlink()
            self._changed()
            return True
        try:
            with self.fs.open(self._remote(rel), "xb") as f:
                f.write(data)
        except FileExistsError:
            return False
        except (NotImplementedError, ValueError) as exc:
            raise SpecError(
                f"registry {self.url} cannot create files exclusively ({exc}), so two "
                "registrations of one version could overwrite each other",
                fix="use a local folder, S3 (s3fs >= 2024.10) or Azure Blob for the registry",
            ) from None
        return True

    def replace(self, rel: str, data: bytes, bump: bool = True) -> None:
        """Point ``rel`` at new bytes in one step (a rename locally, one put remotely)."""
        if self.local is not None:
            target = self.local / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}")
            tmp.write_bytes(data)
            os.replace(tmp, target)
            if bump:
                self._changed()
            return
        self.fs.pipe_file(self._remote(rel), data)

    def delete(self, rel: str) -> None:
        try:
            if self.local is not None:
                (self.local / rel).unlink()
                self._changed()
            else:
                self.fs.rm_file(self._remote(rel))
        except FileNotFoundError:
            pass

    def names(self, rel: str) -> list[str]:
        """Names directly under folder ``rel`` (sorted; hidden temporary files left out)."""
        if self.local is not None:
            folder = self.local / rel
            found = os.listdir(folder) if folder.is_dir() else []
        else:
            try:
                found = [p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(self._remote(rel))]
            except FileNotFoundError:
                found = []
        return sorted(n for n in found if not n.startswith("."))

    def cas_url(self) -> str:
        """Where this registry's blobs live: its own ``cas/``, shared with a store there."""
        return str(self.local) if self.local is not None else self.url
