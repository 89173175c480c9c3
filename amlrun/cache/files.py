"""Low-level file moves for a local store, each safe against a store that attacks its reader.

A blob is read only through a descriptor opened with ``O_NOFOLLOW`` and checked to be a
regular file, and every mode is set with ``fchmod`` on a descriptor amlrun created: a symlink
planted in ``cas/`` is neither followed, nor restored as a link, nor chmod-ed through.

Link types (as DVC's ``cache.type``): ``reflink`` clones the blob's extents (Linux
``ioctl(FICLONE)``; btrfs, XFS, bcachefs...) and falls back to a copy per file where the
filesystem cannot (ext4, tmpfs, across filesystems); ``copy`` always copies; ``hardlink``
shares the blob's read-only inode, which is cheapest but lets a root user's edit reach the
store (the stat check then catches it), so it is only used when the user asks.
"""

from __future__ import annotations

import os
import stat
import threading
from contextlib import suppress

import xxhash

from amlrun.errors import AmlrunError

LINK_TYPES = ("reflink", "copy", "hardlink")
BLOB_MODE = 0o444
_FICLONE = 0x40049409  # _IOW(0x94, 9, int), linux/fs.h
_CHUNK = 8 * 1024 * 1024
_NOFOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class NotRegular(AmlrunError):
    """A store path that is a symlink, folder or device instead of a regular file."""


def open_regular(path: str) -> tuple[int, os.stat_result]:
    """A read descriptor on ``path`` and its stat; NotRegular if it is not a plain file."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise NotRegular(f"{path} is not a regular file ({exc.strerror})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise NotRegular(f"{path} is not a regular file")
    return fd, st


def read_fd(fd: int, size: int) -> bytes:
    """All of ``fd``'s bytes (``size``: what fstat said), without a file object around it."""
    data = os.read(fd, size + 1)
    if len(data) <= size:
        return data  # all of it in one call, the usual case
    chunks = [data]
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def read_regular(path: str) -> bytes:
    fd, _ = open_regular(path)
    with os.fdopen(fd, "rb") as f:
        return f.read()


def hash_fd(fd: int) -> str:
    """xxh3_128 of a descriptor's whole content, read by offset (its position is left alone)."""
    digest = xxhash.xxh3_128()
    offset = 0
    while chunk := os.pread(fd, _CHUNK, offset):
        digest.update(chunk)
        offset += len(chunk)
    return digest.hexdigest()


def clone_into(src_fd: int, size: int, dest: str, mode: int, reflink: bool) -> None:
    """Create ``dest`` (which must not exist) with ``size`` bytes of ``src_fd``, mode ``mode``."""
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        if not (reflink and _ficlone(src_fd, fd)):
            _copy(src_fd, fd, size)
        if os.fstat(fd).st_size != size:
            raise AmlrunError(f"{dest}: wrote {os.fstat(fd).st_size} bytes, expected {size}")
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        with suppress(FileNotFoundError):
            os.unlink(dest)
        raise
    os.close(fd)


def _ficlone(src_fd: int, dest_fd: int) -> bool:
    import fcntl

    try:
        fcntl.ioctl(dest_fd, _FICLONE, src_fd)
    except OSError:  # EOPNOTSUPP, EXDEV, EINVAL: this filesystem or pair cannot clone
        return False
    return True


def _copy(src_fd: int, dest_fd: int, size: int) -> None:
    """Copy by offset: copy_file_range (in-kernel) where it works, else read/write."""
    offset = 0
    with suppress(OSError, AttributeError):
        while offset < size:
            n = os.copy_file_range(src_fd, dest_fd, size - offset, offset, offset)
            if n == 0:
                break
            offset += n
    while offset < size and (chunk := os.pread(src_fd, min(_CHUNK, size - offset), offset)):
        os.pwrite(dest_fd, chunk, offset)
        offset += len(chunk)
    if offset != size:
        raise AmlrunError(f"blob ended after {offset} of {size} bytes while copying")


def hardlink_same(path: str, st: os.stat_result, dest: str) -> bool:
    """Hardlink ``path`` at ``dest`` if it still is the inode ``st``; False if impossible."""
    try:
        os.link(path, dest, follow_symlinks=False)
    except FileNotFoundError:
        raise
    except OSError:  # another filesystem, too many links, protected_hardlinks
        return False
    got = os.lstat(dest)
    if (got.st_ino, got.st_dev) != (st.st_ino, st.st_dev) or not stat.S_ISREG(got.st_mode):
        os.unlink(dest)
        return False
    return True


def take(src: str, dest: str) -> os.stat_result | None:
    """Move a runner's temporary output into the store as a read-only blob, if it can be.

    Only a plain file with one link, owned by this user, on the same filesystem qualifies:
    anything else (a file the step hardlinked from elsewhere, a root-owned file a container
    wrote) could still be reached from outside and is copied instead. Returns the blob's stat.
    """
    try:
        st = os.lstat(src)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_uid != os.geteuid():
            return None
        os.rename(src, dest)
    except OSError:
        return None
    fd, got = open_regular(dest)
    try:
        if got.st_ino != st.st_ino:  # replaced between the lstat and the rename: give it back
            os.rename(dest, src)
            return None
        os.fchmod(fd, BLOB_MODE)
        return os.fstat(fd)
    finally:
        os.close(fd)


def tmp_suffix() -> str:
    """Unique among concurrent writers (processes and threads), so none clobbers another."""
    return f"{os.getpid()}.{threading.get_ident()}.tmp"


def tmp_name(path: str) -> str:
    head, name = os.path.split(path)
    return f"{head}/.{name}.{tmp_suffix()}"


def is_tmp(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def atomic_write(path: str, data: bytes, mode: int) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = tmp_name(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            os.fchmod(f.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def scandir(path: str) -> list[os.DirEntry]:
    try:
        with os.scandir(path) as it:
            return list(it)
    except (FileNotFoundError, NotADirectoryError):
        return []
