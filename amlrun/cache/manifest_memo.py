"""Manifests of a local store already read and checked, kept by their file's stat.

A null run reads every step's manifest: an open, a read, a JSON parse and the shape and
signature checks, 25 us a step. A manifest file is written once, by a rename, and never
changed in place, so one whose stat (inode, size, mtime, ctime) is the one it had when it
was read and checked still holds those bytes, and the checks' verdict stands: a null run
then costs one ``lstat`` per manifest. The blobs a manifest names are still checked on every
read by the store (:mod:`amlrun.cache.blobstat`).

The memo is the workspace's (``.amlrun/manifest-memo``), never the store's: whoever can
write a shared store must not be able to vouch for its own manifests. A verdict counts only
under the signing secret it was reached with. It is saved when the process exits, and only
when something was added.
"""

from __future__ import annotations

import atexit
import marshal
import os
import threading
from contextlib import suppress
from pathlib import Path

from amlrun.cache.blobstat import Signature, signature
from amlrun.cache.signing import secret
from amlrun.hashing import hash_bytes

NAME = "manifest-memo"
#: entries kept when the memo reaches twice as many (the oldest go first)
KEEP = 50_000


class ManifestMemo:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[Signature, str, bytes]] | None = None
        self._dirty = False

    def _load(self) -> dict[str, tuple[Signature, str, bytes]]:
        if self._entries is None:
            try:
                with open(self.path, "rb") as f:
                    loaded = marshal.loads(f.read())
                self._entries = loaded if isinstance(loaded, dict) else {}
            except (OSError, EOFError, ValueError, TypeError):
                self._entries = {}
        return self._entries

    def get(self, path: str, st: os.stat_result) -> dict | None:
        """The checked manifest at ``path`` if its stat is the one it was checked with."""
        with self._lock:
            entry = self._load().get(path)
        if entry is None or entry[0] != signature(st) or entry[1] != _secret_id():
            return None
        try:
            manifest = marshal.loads(entry[2])  # a new object each time: callers own it
        except (EOFError, ValueError, TypeError):
            return None
        return manifest if isinstance(manifest, dict) else None

    def put(self, path: str, st: os.stat_result, manifest: dict) -> None:
        """Keep ``manifest``, read and checked from the file whose descriptor's stat is ``st``."""
        with self._lock:
            entries = self._load()
            if len(entries) >= 2 * KEEP:  # e.g. the server, reading manifests for days
                self._entries = entries = dict(list(entries.items())[-KEEP:])
            entries[path] = (signature(st), _secret_id(), marshal.dumps(manifest))
            if not self._dirty:
                self._dirty = True
                atexit.register(self.save)

    def save(self) -> None:
        """Write the memo if anything was added; best effort (it only saves time)."""
        with self._lock:
            if not self._dirty or self._entries is None:
                return
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            with suppress(OSError):
                tmp.write_bytes(marshal.dumps(self._entries))
                os.replace(tmp, self.path)
            self._dirty = False


def _secret_id() -> str:
    key = secret()
    if key is None:
        return ""
    known = _secret_ids.get(key)
    if known is None:
        known = _secret_ids[key] = hash_bytes(b"amlrun-memo:" + key)
    return known


_secret_ids: dict[bytes, str] = {}


_memos: dict[Path, ManifestMemo] = {}
_memos_lock = threading.Lock()


def memo_for(amlrun_dir: Path) -> ManifestMemo | None:
    """The workspace's memo, shared by every store object of this process (the local
    backend opens the store anew for every step); None before ``.amlrun/`` exists."""
    path = amlrun_dir / NAME
    with _memos_lock:
        memo = _memos.get(path)
        if memo is None:
            if not amlrun_dir.is_dir():
                return None
            memo = _memos[path] = ManifestMemo(path)
        return memo
