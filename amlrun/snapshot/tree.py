"""Snapshots: the files a command runs with, their tree hash, and staging them for a run.

A snapshot is the code folder plus its additional includes, minus the ignore rules, the way
AzureML uploads it. Its tree hash goes into the step key, so walking must be cheap: files
are hashed through the :class:`~amlrun.hashing.StatCache` (one ``stat`` per unchanged file)
and ignored folders are pruned, never descended into. Symlinks are followed only while they
stay inside the folder being copied (:mod:`amlrun.snapshot.links`).
"""

from __future__ import annotations

import os
import shutil
import stat as stat_mod
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from amlrun.errors import AmlrunError, SpecError
from amlrun.hashing import StatCache, file_mode, hash_file, tree_hash
from amlrun.snapshot.links import check_include, check_link

if TYPE_CHECKING:
    from amlrun.spec.model import Code

#: left out of every snapshot, whatever the ignore file says (the SDK skips these too)
ALWAYS_IGNORED_DIRS = frozenset({".git", ".amlrun", "__pycache__", ".ipynb_checkpoints"})
ALWAYS_IGNORED_SUFFIXES = (".pyc", ".additional_includes")
#: checked in this order at the snapshot root; only the first found counts (as the v2 SDK)
IGNORE_FILES = (".amlignore", ".gitignore")


@dataclass(frozen=True)
class SnapshotFile:
    relpath: str  # posix, relative to the snapshot root
    source: str  # absolute path the bytes are read from (a link, checked to stay inside)
    mode: int  # hashing.file_mode: 0o755 or 0o644
    size: int
    hash: str

    @cached_property
    def abspath(self) -> Path:
        """``source`` as a Path, built on demand: 10,000 Paths cost a re-hash ~40 ms."""
        return Path(self.source)


@dataclass(frozen=True)
class Snapshot:
    root: Path
    files: tuple[SnapshotFile, ...]
    tree_hash: str

    def entries(self) -> dict[str, list]:
        """relpath -> [hash, size, mode], the shape of a cache manifest's outputs."""
        return {f.relpath: [f.hash, f.size, f.mode] for f in self.files}

    def stage(self, dest: Path) -> None:
        """Copy the snapshot into ``dest`` (never link: a command may edit files in place).

        ``dest`` is created even for an empty snapshot: it is the command's working folder.
        Each copy is hashed: a file edited since the key was computed must not run, nor be
        staged, under that key (the staged copy is reused by every later run of the tree).
        """
        os.makedirs(dest, exist_ok=True)
        made: set[str] = {os.fspath(dest)}
        for f in self.files:
            target = os.path.join(dest, f.relpath)
            parent = os.path.dirname(target)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            if os.path.lexists(target):
                os.unlink(target)
            _copy(f.source, target)
            os.chmod(target, f.mode)
            if hash_file(target) != f.hash:
                raise AmlrunError(
                    f"{f.source} changed after the step's key was computed, so nothing ran "
                    "with it. Fix: run again (amlrun keys what it runs)"
                )


def take_snapshot(code: Code, statcache: StatCache | None = None) -> Snapshot:
    """The files of ``code.root`` plus its includes, minus the ignore rules.

    An include may not put different bytes where another file already is (which one would
    the command see?); the same bytes twice are fine, e.g. a repo root merged into a folder
    of it.
    """
    if code.missing is not None:
        raise SpecError(
            f"code folder {code.missing} does not exist",
            fix="create it, or point `code:` at the folder holding the module's scripts",
        )
    if code.root is None:  # a v2 command without `code:` runs in an empty folder
        return Snapshot(Path("."), (), tree_hash([]))
    root = os.path.abspath(code.root)
    if not os.path.isdir(root):
        raise SpecError(
            f"code folder {root} does not exist",
            fix="create it, or point `code:` at the folder holding the module's scripts",
        )
    for src, _ in code.includes:
        if not os.path.exists(src):
            raise SpecError(
                f"additional include {src} does not exist",
                fix="fix the path (it is relative to the spec file) or remove the include",
            )
    cache = statcache if statcache is not None else StatCache(None)
    top = code.root if os.fspath(code.root) == root else Path(root)  # a Path costs 1.5 us
    if not code.includes:  # the usual snapshot, one folder: each relpath is found once
        check_include(root)
        with os.scandir(root) as it:  # its listing says if there is an ignore file to read
            listing = list(it)
        has_rules = any(e.name in IGNORE_FILES for e in listing)
        skip = _Filter(_load_rules([root]) if has_rules else None)
        found = _walk(root, "", cache, skip, bound=root, listing=listing)
        found.sort(key=_relpath)
        return Snapshot(top, tuple(found), tree_hash([(f.relpath, f.mode, f.hash) for f in found]))
    merged = [os.path.abspath(src) for src, name in code.includes if not name]
    skip = _Filter(_load_rules([root, *merged]))
    files: dict[str, SnapshotFile] = {}
    sources: list[tuple[str, str]] = [(root, "")]
    sources += [(os.path.abspath(src), name) for src, name in code.includes]
    for src, name in sources:
        for f in _collect(src, name, cache, skip):
            other = files.get(f.relpath)
            if other is None:
                files[f.relpath] = f
            elif (other.hash, other.mode) != (f.hash, f.mode):
                raise SpecError(
                    f"additional include {src} puts {f.abspath} at {f.relpath} in the "
                    f"snapshot, where {other.abspath} already is",
                    fix="rename one of them, or include a folder under its own name",
                )
    ordered = tuple(files[k] for k in sorted(files))
    return Snapshot(top, ordered, tree_hash([(f.relpath, f.mode, f.hash) for f in ordered]))


def _relpath(f: SnapshotFile) -> str:
    return f.relpath


def hash_path(path: Path, statcache: StatCache | None = None) -> tuple[dict[str, list], str, bool]:
    """Entries, tree hash and is_file of a data path; a lone file is the one entry ``""``."""
    cache = statcache if statcache is not None else StatCache(None)
    top = os.path.abspath(path)
    try:
        st = os.stat(top)
    except OSError:
        raise SpecError(
            f"data path {top} does not exist", fix="create it or bind another path"
        ) from None
    _check_data_path(top, st)
    if stat_mod.S_ISDIR(st.st_mode):
        files = _walk(top, "", cache, None)
        entries = {f.relpath: [f.hash, f.size, f.mode] for f in files}
        return entries, entries_hash(entries), False
    try:
        digest = cache.hash(top, st)
    except OSError as exc:
        raise SpecError(
            f"data path {top} cannot be read: {exc.strerror or exc}",
            fix="check its permissions, or bind another path",
        ) from None
    entries = {"": [digest, st.st_size, file_mode(st.st_mode)]}
    return entries, entries_hash(entries), True


#: kernel pseudo-filesystems: their "files" are endless (/dev/zero), fail on read
#: (/proc/self/mem) or change on every read, so they are never data
PSEUDO_ROOTS = ("/proc", "/sys", "/dev")


def _check_data_path(top: str, st: os.stat_result) -> None:
    """Data is a regular file or a folder; a FIFO would block and a device never ends."""
    real = os.path.realpath(top)
    pseudo = next((r for r in PSEUDO_ROOTS if real == r or real.startswith(r + "/")), None)
    if pseudo is not None:
        raise SpecError(
            f"data path {top} is in {pseudo}, a kernel pseudo-filesystem, not data",
            fix="bind a regular file or folder (copy what you need out first)",
        )
    if not (stat_mod.S_ISDIR(st.st_mode) or stat_mod.S_ISREG(st.st_mode)):
        raise SpecError(
            f"data path {top} is a {_file_kind(st.st_mode)}, not a regular file or folder",
            fix="bind a regular file or folder",
        )


def _file_kind(mode: int) -> str:
    kinds = {
        stat_mod.S_ISFIFO: "FIFO (named pipe)",
        stat_mod.S_ISSOCK: "socket",
        stat_mod.S_ISCHR: "character device",
        stat_mod.S_ISBLK: "block device",
    }
    return next((name for test, name in kinds.items() if test(mode)), "special file")


def hash_folder(path: Path, statcache: StatCache | None = None) -> str:
    """Tree hash of everything in a folder (no ignore rules), e.g. a docker build context."""
    return hash_path(path, statcache)[1]


def entries_hash(entries: dict[str, list]) -> str:
    """Tree hash of relpath -> [hash, size, mode] entries, so a manifest is enough to key on."""
    return tree_hash([(rel, mode, h) for rel, (h, _size, mode) in entries.items()])


# ---------------------------------------------------------------- ignore rules


class _Rules:
    """The root ignore file, matched with pathspec; decides which folders can be pruned."""

    def __init__(self, lines: list[str]) -> None:
        import pathspec  # lazy: most commands never read an ignore file

        self._spec = pathspec.GitIgnoreSpec.from_lines(lines)
        # where a negation could re-include a file: a path prefix, or None for "anywhere"
        self._reincludes = [_static_prefix(ln.strip()[1:]) for ln in lines if ln.startswith("!")]

    def file(self, rel: str) -> bool:
        return self._spec.match_file(rel)

    def folder(self, rel: str) -> bool:
        """Whether nothing under ``rel`` can survive, so the walk need not descend."""
        d = rel + "/"
        if not self._spec.match_file(d):
            return False
        return not any(p is None or p.startswith(d) or d.startswith(p) for p in self._reincludes)


def _static_prefix(pattern: str) -> str | None:
    """The literal leading path of a gitignore pattern; None if it may match at any depth."""
    if "/" not in pattern.rstrip("/"):
        return None
    pattern = pattern.lstrip("/")
    cut = min((i for i, c in enumerate(pattern) if c in "*?[\\"), default=len(pattern))
    return pattern[:cut]


def _load_rules(roots: list[str]) -> _Rules | None:
    """The first ignore file at the snapshot root (code folder, then merged includes).

    ``os.access`` asks first: a failed open() costs 5 us (its exception), access 0.4 us, and
    most code folders have no ignore file.
    """
    for name in IGNORE_FILES:
        for root in roots:
            path = os.path.join(root, name)
            if not os.access(path, os.F_OK):
                continue
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    return _Rules(f.read().splitlines())
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                continue
    return None


# ---------------------------------------------------------------- walking


def _collect(src: str, name: str, cache: StatCache, skip: _Filter) -> Iterator[SnapshotFile]:
    """The files of one snapshot source: a folder (at ``name``/, or merged) or a file.

    Links inside a folder are followed only as far as the folder itself (see ``links``).
    """
    check_include(src)
    st = os.stat(src)
    if not stat_mod.S_ISDIR(st.st_mode):
        rel = name or os.path.basename(src)
        if not skip.file(rel):
            mode = file_mode(st.st_mode)
            yield SnapshotFile(rel, src, mode, st.st_size, cache.hash(src, st))
        return
    if name and skip.folder(name):
        return
    yield from _walk(src, f"{name}/" if name else "", cache, skip, bound=src)


class _Filter:
    """What a snapshot leaves out: the built-in exclusions plus the root ignore file."""

    def __init__(self, rules: _Rules | None) -> None:
        self._rules = rules

    def folder(self, rel: str) -> bool:
        if rel.rpartition("/")[2] in ALWAYS_IGNORED_DIRS:
            return True
        return self._rules is not None and self._rules.folder(rel)

    def file(self, rel: str) -> bool:
        if rel.endswith(ALWAYS_IGNORED_SUFFIXES):
            return True
        return self._rules is not None and self._rules.file(rel)


def _walk(
    top: str,
    prefix: str,
    cache: StatCache,
    skip: _Filter | None,
    bound: str | None = None,
    listing: list[os.DirEntry] | None = None,
) -> list[SnapshotFile]:
    """Files under ``top`` (whose entries are ``listing`` if given) as ``prefix`` + relpath,
    symlinks followed.

    A snapshot source passes its ``bound`` (its folder): a link leading outside it, or
    nowhere, is an error. A data path (``skip``, ``bound`` None) keeps everything and skips
    broken links. ``bound`` is resolved at the first link only: most code folders have none,
    and realpath costs a null run 50 us per step.
    """
    out: list[SnapshotFile] = []
    real_bound = ""
    # (folder, relpath prefix, real paths of the symlinked folders followed to get there)
    stack: list[tuple[str, str, tuple[str, ...]]] = [(top, prefix, ())]
    while stack:
        folder, pre, followed = stack.pop()
        entries, listing = listing, None  # the top folder's, when the caller listed it
        if entries is None:
            try:
                it = os.scandir(folder)
            except OSError:
                continue
            with it:
                entries = list(it)
        for e in entries:
            rel = pre + e.name
            try:
                is_dir = e.is_dir()
                if skip is not None and (skip.folder(rel) if is_dir else skip.file(rel)):
                    continue
                link = e.is_symlink()
                if link and bound is not None:
                    real_bound = real_bound or os.path.realpath(bound)
                    check_link(e.path, rel, real_bound)
                if is_dir:
                    if not link:
                        stack.append((e.path, rel + "/", followed))
                        continue
                    target = os.path.realpath(e.path)
                    if not _is_cycle(target, (os.path.realpath(folder), *followed)):
                        stack.append((e.path, rel + "/", (*followed, target)))
                    continue
                st = e.stat()
            except OSError:  # a broken symlink in data, or removed while walking
                continue
            if not stat_mod.S_ISREG(st.st_mode):
                continue
            mode = file_mode(st.st_mode)
            digest = cache.hash(e.path, st)
            out.append(SnapshotFile(rel, e.path, mode, st.st_size, digest))
    return out


def _is_cycle(target: str, visited: tuple[str, ...]) -> bool:
    """A symlinked folder leading back to a folder already on the walk's path loops forever."""
    inside = target.rstrip(os.sep) + os.sep
    return any(p == target or p.startswith(inside) for p in visited)


def _copy(src: str, dst: str) -> None:
    """Copy bytes, letting the kernel share extents where it can (reflink on btrfs/xfs)."""
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        try:
            size = os.fstat(fi.fileno()).st_size
            while size > 0:
                n = os.copy_file_range(fi.fileno(), fo.fileno(), size)
                if n == 0:
                    break
                size -= n
            return
        except (AttributeError, OSError):
            fo.seek(0)
            fo.truncate()
            fi.seek(0)
            shutil.copyfileobj(fi, fo, 1024 * 1024)
