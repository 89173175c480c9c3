"""The content fingerprint of a watched path, for data triggers.

Content, not modification times: a file touched but unchanged does not fire. A local path is
hashed with amlrun's snapshot hashing (a file whose stat did not change is not read again);
an fsspec URL is listed and each file whose listing changed (size, ETag or mtime) is read and
hashed again.
"""

from __future__ import annotations

from pathlib import Path

from amlrun.hashing import StatCache, hash_bytes, hash_json


class DataWatch:
    def __init__(self) -> None:
        self._stats = StatCache(None)
        self._remote: dict[str, tuple[str, str]] = {}  # url path -> (listing signature, hash)

    def fingerprint(self, path: str) -> str | None:
        """The content hash under ``path``; None when nothing is there (yet)."""
        if "://" in path and not path.startswith("file://"):
            return self._remote_hash(path)
        from amlrun.snapshot.tree import hash_path

        local = Path(path.removeprefix("file://"))
        if not local.exists():
            return None
        return hash_path(local, self._stats)[1]

    def _remote_hash(self, url: str) -> str | None:
        import fsspec

        fs, root = fsspec.core.url_to_fs(url)
        if not fs.exists(root):
            return None
        found = fs.find(root, detail=True)
        entries = []
        for name, info in sorted(found.items()):
            if info.get("type") == "directory":
                continue
            sig = hash_json(
                [info.get(k) for k in ("size", "ETag", "etag", "mtime", "LastModified")]
            )
            cached = self._remote.get(name)
            digest = cached[1] if cached and cached[0] == sig else hash_bytes(fs.cat_file(name))
            self._remote[name] = (sig, digest)
            entries.append((name.removeprefix(root.rstrip("/")), digest))
        return hash_json(entries)
