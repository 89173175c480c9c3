"""``verify`` and ``gc`` of a local store: the slow, whole-store walks, kept apart from the
hot path in :mod:`amlrun.cache.local`."""

from __future__ import annotations

import os
import stat
import time
from contextlib import suppress
from typing import TYPE_CHECKING

from amlrun.cache import files
from amlrun.cache.base import blob_rel
from amlrun.cache.manifest import (
    BadManifest,
    is_blob_name,
    manifest_problems,
    parse_manifest,
    referenced_blobs,
)

if TYPE_CHECKING:
    from amlrun.cache.local import LocalStore
    from amlrun.cache.sample import Sample

#: a temporary file younger than this may belong to a writer still running
TMP_GRACE_S = 3600.0


def _blob_files(store: LocalStore) -> list[os.DirEntry]:
    out: list[os.DirEntry] = []
    for sub in files.scandir(store._path("cas")):
        if sub.is_dir(follow_symlinks=False):
            out.extend(files.scandir(sub.path))
    return out


def _manifest_files(store: LocalStore) -> list[os.DirEntry]:
    return [e for e in files.scandir(store._path("steps")) if e.name.endswith(".json")]


def pinned_blobs(texts: list[bytes]) -> set[str]:
    """Blobs named in ``<store>/pins/*`` files (one hash a line), which gc never removes: a
    registry at the store's location pins the snapshots of its immutable versions there."""
    return {h for data in texts for h in data.decode("ascii", "replace").split()}


def _pins_local(store: LocalStore) -> set[str]:
    texts = [_read(e.path) for e in files.scandir(store._path("pins"))]
    return pinned_blobs([t for t in texts if t is not None])


def _read(path: str) -> bytes | None:
    """A manifest's bytes; None if it is gone, unreadable or not a regular file."""
    try:
        return files.read_regular(path)
    except (OSError, files.NotRegular):
        return None


def verify_local(store: LocalStore, repair: bool, sample: Sample) -> list[str]:
    """Re-hash the sampled blobs, check every manifest; with ``repair``, quarantine and drop.

    A blob left out of the sample counts as good: only a blob seen bad drops an entry.
    """
    problems: list[str] = []
    present: set[str] = set()  # blobs that are there, good or not
    good: set[str] = set()
    entries = _blob_files(store)
    picked = sample.pick(e.name for e in entries)
    for e in entries:
        if files.is_tmp(e.name):
            continue
        rel = f"cas/{os.path.basename(os.path.dirname(e.path))}/{e.name}"
        if not is_blob_name(e.name) or blob_rel(e.name) != rel:
            problems.append(f"{rel}: not a blob name or in the wrong folder")
            continue
        present.add(e.name)
        problem = _check_blob(store, e.name, e.path, repair) if e.name in picked else None
        if problem:
            problems.append(f"{rel}: {problem}")
        else:
            good.add(e.name)
    for e in _manifest_files(store):
        rel = f"steps/{e.name}"
        found = manifest_problems(store, rel, _read(e.path), good if repair else present)
        if found and repair:
            with suppress(FileNotFoundError):
                os.unlink(e.path)
            found = [f"{p} (entry dropped)" for p in found[:1]]
        problems += found
    return problems


def _check_blob(store: LocalStore, h: str, path: str, repair: bool) -> str | None:
    """What is wrong with one blob (re-hashed in full); a good one has its stat re-recorded."""
    try:
        fd, st = files.open_regular(path)
    except files.NotRegular:
        problem = "not a regular file"
        return store.quarantine(h, path, problem, None) if repair else problem
    except OSError as exc:
        return f"unreadable ({exc})"
    try:
        actual = files.hash_fd(fd)
    finally:
        os.close(fd)
    if actual != h:
        problem = f"corrupt, its content hashes to {actual}"
        return store.quarantine(h, path, problem, st.st_ino) if repair else problem
    store.stats.record(h, st)
    return None


def _refs(data: bytes | None) -> set[str] | None:
    """The blobs a manifest needs; None for an unreadable or malformed one (garbage)."""
    if data is None:
        return None
    try:
        return set(referenced_blobs(parse_manifest(data)))
    except BadManifest:
        return None


def gc_local(store: LocalStore, older_than_s: float, keep_keys: frozenset[str]) -> tuple[int, int]:
    now = time.time()
    cutoff = now - older_than_s
    keep: set[str] = set()
    manifests = 0
    for e in _manifest_files(store):
        with suppress(FileNotFoundError):
            st = e.stat(follow_symlinks=False)
            refs = _refs(_read(e.path))
            old = st.st_mtime < cutoff and e.name.removesuffix(".json") not in keep_keys
            if refs is None or old:
                os.unlink(e.path)
                manifests += 1
            else:
                keep.update(refs)
    keep.update(_pins_local(store))
    blobs = 0
    kept: dict[str, os.stat_result] = {}
    for e in _blob_files(store):
        with suppress(FileNotFoundError):
            st = e.stat(follow_symlinks=False)
            if files.is_tmp(e.name):
                if st.st_mtime < min(cutoff, now - TMP_GRACE_S):
                    os.unlink(e.path)
            elif e.name not in keep and st.st_mtime < cutoff:
                os.unlink(e.path)
                blobs += 1
            elif stat.S_ISREG(st.st_mode):
                kept[e.name] = st
    aside = [e for e in files.scandir(store._path("steps")) if files.is_tmp(e.name)]
    aside += files.scandir(store._path("quarantine"))  # bad blobs, kept a while for a look
    for e in aside:
        with suppress(OSError):  # gone already, or a planted folder: left alone
            if e.stat(follow_symlinks=False).st_mtime < min(cutoff, now - TMP_GRACE_S):
                os.unlink(e.path)
    store.stats.compact(kept)
    _trim_remote_copies(store, min(cutoff, now - TMP_GRACE_S), keep_keys)
    return manifests, blobs


def _trim_remote_copies(store: LocalStore, cutoff: float, keep_keys: frozenset[str]) -> None:
    """Remote manifests kept here (cache/manifest_cache.py) and unused since ``cutoff``: only
    copies, so dropping one costs a later run one request, never a result."""
    from amlrun.cache.manifest_cache import FOLDER

    for remote in files.scandir(store._path(FOLDER)):
        if not remote.is_dir(follow_symlinks=False):
            continue
        for e in files.scandir(remote.path):
            with suppress(OSError):
                old = e.stat(follow_symlinks=False).st_mtime < cutoff
                if old and e.name.removesuffix(".json") not in keep_keys:
                    os.unlink(e.path)
