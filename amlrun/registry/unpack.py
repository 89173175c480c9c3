"""Unpacking registration sources safely: a zip or Git checkout may come from anyone.

Nothing lands outside the destination (no absolute names, no ``..``, no links), and the
expanded size and file count are bounded while extracting, not trusted from the headers:
a zip bomb stops at the limit with an error instead of filling the disk.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

from amlrun.errors import SpecError

MAX_FILES = 20_000
MAX_BYTES = 2 * 1024**3
_CHUNK = 1024 * 1024


def _safe_member(name: str, archive: Path) -> PurePosixPath:
    rel = PurePosixPath(name.replace("\\", "/"))
    if rel.is_absolute() or name.startswith(("/", "\\")) or ":" in name:
        raise SpecError(
            f"archive member '{name}' has an absolute path or a drive",
            file=archive,
            fix="rebuild the zip with paths relative to its root",
        )
    if ".." in rel.parts:
        raise SpecError(
            f"archive member '{name}' points outside the archive (zip-slip)",
            file=archive,
            fix="rebuild the zip without '..' in member names",
        )
    return rel


def unpack_zip(
    archive: Path, dest: Path, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES
) -> None:
    """Extract ``archive`` into the empty folder ``dest``, refusing anything unsafe."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SpecError(f"not a readable zip file ({exc})", file=archive) from None
    with zf:
        members = zf.infolist()
        if len(members) > max_files:
            raise SpecError(
                f"the zip holds {len(members):,} entries, more than {max_files:,}",
                file=archive,
                fix="register a smaller archive",
            )
        written = 0
        for info in members:
            rel = _safe_member(info.filename, archive)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise SpecError(
                    f"archive member '{info.filename}' is a symbolic link",
                    file=archive,
                    fix="store the file itself in the zip",
                )
            target = dest.joinpath(*rel.parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                raise SpecError(
                    f"archive member '{info.filename}' appears twice",
                    file=archive,
                    fix="rebuild the zip",
                )
            with zf.open(info) as src, open(target, "xb") as out:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise SpecError(
                            f"the zip expands to more than {max_bytes:,} bytes (a zip bomb?)",
                            file=archive,
                            fix="register a smaller archive",
                        )
                    out.write(chunk)
            if info.external_attr >> 16 & 0o111:
                os.chmod(target, 0o755)


def check_tree(
    root: Path, what: str, max_files: int = MAX_FILES, max_bytes: int = MAX_BYTES
) -> None:
    """A checked-out tree: bounded, and no symlink that resolves outside ``root``."""
    real = root.resolve()
    count = size = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in [*dirs, *files]:
            path = Path(folder, name)
            if path.is_symlink():
                target = path.resolve()
                if target != real and real not in target.parents:
                    raise SpecError(
                        f"{path.relative_to(root)} in {what} links outside it",
                        fix="commit the file itself instead of a link",
                    )
        count += len(files)
        size += sum(os.lstat(Path(folder, f)).st_size for f in files)
        if count > max_files or size > max_bytes:
            raise SpecError(
                f"{what} holds more than {max_files:,} files or {max_bytes:,} bytes",
                fix="register a subfolder with #subdir=",
            )
