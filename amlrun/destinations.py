"""Output destinations: when amlrun may replace a folder of the user's, and what it wrote there.

The promise is "amlrun never harms the user's files". A destination (``--output NAME=PATH``,
an output's ``path:``) is replaced only when nothing of the user's can be lost: it is absent,
an empty folder, or still exactly what amlrun put there last time. What was put there is
recorded in ``.amlrun/destinations.sqlite`` (each file's size, mtime, inode and hash), not as a
marker inside the user's folder, which a copy or ``git add`` would spread. Anything else is
refused, naming the path and ``--force-output``. A symlink is never followed: it is refused,
and with ``--force-output`` the link itself is replaced, never its target. No flag lets a
destination hold the workspace's ``.amlrun``, a store, a spec, a code folder or an input.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from amlrun.errors import AmlrunError, SpecError
from amlrun.hashing import hash_file

#: relpath ("" for a file destination) -> [size, mtime_ns, inode] ([-1, -1, -1]: not a
#: regular file); the table adds each file's content hash as a fourth item
Stats = dict[str, list]
_NOT_A_FILE = [-1, -1, -1]
_RULE = "amlrun replaces only an absent or empty folder, or one it wrote that is unchanged"


@dataclass(frozen=True)
class Destination:
    """One place an output goes: ``path`` is absolute, its last component never resolved."""

    label: str  # how the user named it, e.g. "--output final" or "jobs.a.outputs.b.path"
    path: Path

    @classmethod
    def of(cls, label: str, raw: str | os.PathLike[str]) -> Destination:
        return cls(label, destination_path(raw))


def destination_path(raw: str | os.PathLike[str]) -> Path:
    """``raw`` made absolute with its parent folders resolved but not its last component.

    Resolving the last component is how a symlinked output folder got its target replaced.
    """
    path = os.path.abspath(os.path.expanduser(os.fspath(raw)))
    parent, name = os.path.split(path)
    return Path(os.path.realpath(parent), name) if name else Path(path)


def current_stats(path: Path) -> Stats:
    """What is at ``path`` now, without following any symlink (a link counts as a change)."""
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode):
        return {"": _file_stats(st)}
    out: Stats = {}
    stack = [(os.fspath(path), "")]
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as entries:
            for e in entries:
                rel = prefix + e.name
                if e.is_dir(follow_symlinks=False):
                    stack.append((e.path, rel + "/"))
                else:
                    out[rel] = _file_stats(e.stat(follow_symlinks=False))
    return out


def _file_stats(st: os.stat_result) -> list[int]:
    if not stat.S_ISREG(st.st_mode):
        return list(_NOT_A_FILE)
    return [st.st_size, st.st_mtime_ns, st.st_ino]


class DestinationTable:
    """destination path -> the stats of what amlrun last wrote there (one sqlite table)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, dest: Path) -> Stats | None:
        if not self.path.exists():
            return None
        row = self._execute("SELECT stats FROM written WHERE path = ?", str(dest))
        try:
            return None if row is None else dict(json.loads(row[0]))
        except (TypeError, ValueError):  # a damaged row: as if never written (refused, safe)
            return None

    def put(self, dest: Path, stats: Stats) -> None:
        self._execute("INSERT OR REPLACE INTO written VALUES (?, ?)", str(dest), json.dumps(stats))

    def _execute(self, sql: str, *args: str) -> tuple | None:
        """One statement in its own transaction; a damaged table is the user's to remove."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(self.path, timeout=60)
            try:
                with db:
                    db.execute(
                        "CREATE TABLE IF NOT EXISTS written (path TEXT PRIMARY KEY, stats TEXT)"
                    )
                    return db.execute(sql, args).fetchone()
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:
            raise AmlrunError(
                f"the record of output destinations {self.path} is unreadable ({exc}); "
                "delete it (amlrun then asks for --force-output once per destination)"
            ) from None


class Destinations:
    """The rules above, for one run: check every destination first, then write each."""

    def __init__(
        self,
        workspace_dir: Path,
        *,
        force: bool = False,
        protected: Iterable[str | os.PathLike] = (),
        internal: Iterable[str | os.PathLike] = (),
    ) -> None:
        """``protected``: paths no destination may be or contain (specs, code, inputs);
        ``internal``: folders no destination may touch at all (``.amlrun``, stores)."""
        self.table = DestinationTable(workspace_dir / "destinations.sqlite")
        self.force = force
        self._internal = (workspace_dir, *internal)
        self._protected = protected

    @cached_property
    def internal(self) -> tuple[Path, ...]:
        """Resolved when a destination is first checked: a run without outputs never pays."""
        return tuple(Path(p) for p in resolved(self._internal))

    @cached_property
    def protected(self) -> tuple[str, ...]:
        """As text: every destination is compared with every code folder, spec and input."""
        return resolved(self._protected)

    def check_all(self, dests: Iterable[Destination]) -> None:
        """Refuse (exit 2) before anything is written if any destination may not be replaced."""
        seen: list[Destination] = []
        for d in dests:
            for other in seen:
                if _overlap(d.path, other.path):
                    raise SpecError(
                        f"{d.label} ({d.path}) and {other.label} ({other.path}) overlap",
                        fix="give each output its own folder, side by side",
                    )
            seen.append(d)
            self._check_place(d)
            self._check_occupant(d)

    def write(
        self,
        dest: Destination,
        build: Callable[[Path], None],
        hashes: Mapping[str, str],
        modes: Mapping[str, int] | None = None,
    ) -> Path:
        """Check ``dest`` again (a step may have run for hours), ``build`` it, record it.

        ``build(path)`` must create the data aside and swap it in, as ``store.materialize``
        and :func:`place` do, so an interrupted write never leaves half a folder.
        ``hashes`` (relpath -> content hash of what is written) let a later check tell a
        file whose mtime alone moved (a store refreshing a hardlinked blob) from an edit.
        With ``modes`` (relpath -> the mode ``build`` gives it), a destination that already
        holds exactly that is left as it is: a null run rewrites no output (it may be GBs).
        """
        self._check_occupant(dest)
        if modes is not None and self._holds(dest.path, hashes, modes):
            return dest.path
        build(dest.path)
        stats = current_stats(dest.path)
        self.table.put(dest.path, {rel: [*st, hashes.get(rel)] for rel, st in stats.items()})
        return dest.path

    def _holds(self, path: Path, hashes: Mapping[str, str], modes: Mapping[str, int]) -> bool:
        """Whether ``path`` holds exactly the files amlrun wrote there, untouched since, and
        they are the ``hashes`` and ``modes`` it would write now."""
        recorded = self.table.get(path) if os.path.lexists(path) else None
        if not recorded or set(recorded) != set(hashes) or set(modes) != set(hashes):
            return False
        now = current_stats(path)
        if set(now) != set(recorded):
            return False
        for rel, r in recorded.items():
            if len(r) != 4 or r[:3] != now[rel] or r[3] != hashes[rel]:
                return False
            st = os.lstat(os.path.join(path, rel) if rel else path)
            if stat.S_IMODE(st.st_mode) != modes[rel]:
                return False
        return True

    def _check_place(self, d: Destination) -> None:
        for p in self.internal:
            if _overlap(d.path, p):
                raise SpecError(
                    f"{d.label}: {d.path} is or holds amlrun's own folder {p}; "
                    "replacing it would delete the workspace's runs or store",
                    fix="write outputs to a folder of their own, e.g. ./outputs/NAME",
                )
        dest = str(d.path)  # absolute, as Destination.of makes it
        below = dest.rstrip("/") + "/"
        for p in self.protected:
            if p == dest or p.startswith(below):
                raise SpecError(
                    f"{d.label}: {d.path} holds {p}, which the run reads; "
                    "replacing it would delete it",
                    fix="write outputs to a folder of their own, e.g. ./outputs/NAME",
                )

    def _check_occupant(self, d: Destination) -> None:
        _check_parents(d)
        if self.force:
            return
        problem = self._occupant(d.path)
        if problem is not None:
            raise SpecError(
                f"{d.label}: refusing to replace {d.path}: it {problem} ({_RULE})",
                fix="choose an absent or empty folder, or pass --force-output to replace it"
                + (" (the link itself, never its target)" if d.path.is_symlink() else ""),
            )

    def _occupant(self, path: Path) -> str | None:
        """Why ``path`` may not be replaced, or None if nothing of the user's is there."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        if stat.S_ISLNK(st.st_mode):
            return f"is a symbolic link to {os.readlink(path)}, and amlrun never writes through one"
        now = current_stats(path)
        if stat.S_ISDIR(st.st_mode) and not now:
            return None
        recorded = self.table.get(path)
        if recorded is None:
            return "holds files amlrun did not write"
        keys = recorded.keys() | now.keys()
        changed = sorted(k for k in keys if _differs(path, k, recorded.get(k), now.get(k)))
        if not changed:
            return None
        what = changed[0] or path.name
        return f"has changed since amlrun wrote it ({what!r} {_change(recorded, now, changed[0])})"


def _differs(path: Path, rel: str, recorded: list | None, now: list[int] | None) -> bool:
    """Whether the file at ``rel`` is not what amlrun wrote: stats first, else its bytes."""
    if recorded is None or now is None or len(recorded) != 4:
        return True
    if recorded[:3] == now:
        return False
    if now[0] < 0 or recorded[0] != now[0] or not recorded[3]:
        return True
    return hash_file(path / rel if rel else path) != recorded[3]


def _change(recorded: Stats, now: Stats, rel: str) -> str:
    if rel not in recorded:
        return "was added"
    if rel not in now:
        return "was removed"
    return "was modified"


def _overlap(a: Path, b: Path) -> bool:
    """Whether replacing one of ``a`` and ``b`` would touch the other."""
    return a == b or _inside(a, b) or _inside(b, a)


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is strictly below ``folder``."""
    return path != folder and path.is_relative_to(folder)


def resolved(paths: Iterable[str | os.PathLike]) -> tuple[str, ...]:
    """``os.path.realpath`` of each distinct path, each parent folder resolved only once.

    realpath walks every component in Python; 300 steps' code folders, specs and inputs cost
    50 ms that way. A path whose last component is no symlink resolves to its parent's
    resolution joined with that name.
    """
    parents: dict[str, str] = {}
    done: dict[str, str] = {}
    for p in paths:
        text = os.fspath(p)
        if text not in done:
            done[text] = _realpath(text, parents)
    return tuple(dict.fromkeys(done.values()))


def _realpath(path: str, parents: dict[str, str]) -> str:
    if ".." in path.split(os.sep):  # realpath resolves a link before its "..": let it
        return os.path.realpath(path)
    head, tail = os.path.split(os.path.abspath(path))
    try:
        if not tail or stat.S_ISLNK(os.lstat(os.path.join(head, tail)).st_mode):
            return os.path.realpath(path)
    except OSError:  # absent: realpath keeps the name as it is
        pass
    parent = parents.get(head)
    if parent is None:
        parent = parents[head] = os.path.realpath(head)
    return os.path.join(parent, tail)


def place(src: Path, dest: Path) -> None:
    """Move a finished output to ``dest``: renamed beside it (copied across filesystems) first,
    then swapped in, so ``dest`` is never half written."""
    tmp = dest.with_name(f".{dest.name}.amlrun-{os.urandom(4).hex()}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        try:
            os.rename(src, tmp)
        except OSError:  # another filesystem
            if src.is_dir():
                shutil.copytree(src, tmp, symlinks=True)
            else:
                shutil.copy2(src, tmp, follow_symlinks=False)
        swap(tmp, dest)
    except BaseException:
        remove(tmp)
        raise


def swap(tmp: Path, dest: Path) -> None:
    """Put ``tmp`` at ``dest``; whatever was there (a link: the link) is moved aside, removed."""
    if not os.path.lexists(dest):
        os.rename(tmp, dest)
        return
    old = dest.with_name(f".{dest.name}.amlrun-old-{os.urandom(4).hex()}")
    os.rename(dest, old)
    os.rename(tmp, dest)
    remove(old)


def remove(path: Path) -> None:
    """Delete ``path`` without following a link (a link is unlinked, its target kept)."""
    if not os.path.lexists(path):
        return
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _check_parents(d: Destination) -> None:
    """A destination under a file (or an unreadable folder) is one clear error, up front."""
    parent = d.path.parent
    while not os.path.lexists(parent) and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise SpecError(
            f"{d.label}: could not be written to {d.path}: {parent} is not a folder",
            fix="choose a destination whose parent folders are folders (or absent)",
        )
