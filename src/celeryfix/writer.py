"""Atomic writes that keep a file's mode, encoding, BOM and line breaks; never through a link."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import tempfile
from pathlib import Path

_TEMP_SUFFIX = ".celeryfix-tmp"
_FD_FOLDER = "/proc/self/fd"


class UnsafeWrite(Exception):
    """The target may not be written (outside the repository, a symlink, read-only...)."""


def check_inside(path: Path, root: Path) -> None:
    """Refuse a path that is a symlink or whose real location is outside the repository."""
    if path.is_symlink():
        raise UnsafeWrite(f"{path}: is a symbolic link; celeryfix never writes through links")
    real_root = root.resolve()
    real = path.resolve()
    if real != real_root and real_root not in real.parents:
        raise UnsafeWrite(f"{path}: lies outside the repository {root}")


def check_writable(path: Path, root: Path) -> None:
    """Refuse what `write_atomic` must not replace: a link, a file outside the repository, a
    file the user may not write (its owner made it read-only), a folder that takes no file."""
    check_inside(path, root)
    path.stat()  # a missing target is FileNotFoundError, not "read-only"
    if not os.access(path, os.W_OK):
        raise UnsafeWrite(f"{path}: is read-only for this user; left alone")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise UnsafeWrite(f"{path}: its folder is read-only for this user; left alone")


def write_atomic(path: Path, data: bytes, root: Path) -> None:
    """Replace `path` with `data`: a complete temp file beside it (synced, with the old mode and
    owner), then os.replace, so a reader (or a crash) sees the old bytes or the new, never a
    mix."""
    check_writable(path, root)
    status = path.stat()
    temp_name = _complete_temp_file(path, data, status)
    try:
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_folder(path.parent)


def _complete_temp_file(path: Path, data: bytes, status: os.stat_result) -> str:
    """The name of a new file beside `path` that holds `data`, synced, mode and owner set.

    Where the system allows it (Linux, O_TMPFILE), the file is written without a name and
    linked in only once complete: a kill -9 while writing or syncing leaves nothing behind,
    and only the instant between the link and the rename could leave a temp file.
    """
    descriptor = _unnamed_file(path.parent)
    name = None
    if descriptor is None:
        descriptor, name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=_TEMP_SUFFIX, dir=path.parent
        )
    try:
        _fill(descriptor, data, status)
        if name is None:
            name = _link_unnamed(descriptor, path)
    except BaseException:
        if name is not None:
            with contextlib.suppress(OSError):
                os.unlink(name)
        raise
    finally:
        os.close(descriptor)
    return name


def _unnamed_file(folder: Path) -> int | None:
    """A file without a name in `folder`, or None where the system cannot make one."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir(_FD_FOLDER):
        return None
    try:
        return os.open(folder, flag | os.O_WRONLY, 0o600)
    except OSError as error:
        if error.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
            return None  # a file system without O_TMPFILE: a named temp file instead
        raise


def _link_unnamed(descriptor: int, path: Path) -> str:
    """Give the unnamed file a temp name beside `path`: linkat(2) of its /proc/self/fd entry,
    following that link (a folder descriptor makes os.link use linkat with
    AT_SYMLINK_FOLLOW; plain link(2) would try to link the /proc entry itself)."""
    folder = os.open(path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        while True:
            name = f".{path.name}.{secrets.token_hex(4)}{_TEMP_SUFFIX}"
            try:
                os.link(f"{_FD_FOLDER}/{descriptor}", name, dst_dir_fd=folder)
            except FileExistsError:
                continue
            return str(path.parent / name)
    finally:
        os.close(folder)


def _fill(descriptor: int, data: bytes, status: os.stat_result) -> None:
    """The bytes, the old owner and mode (after chown, which clears set-id bits), then fsync."""
    with os.fdopen(descriptor, "wb", closefd=False) as handle:
        handle.write(data)
    _keep_owner(descriptor, status)
    os.fchmod(descriptor, stat.S_IMODE(status.st_mode))
    os.fsync(descriptor)


def _keep_owner(descriptor: int, status: os.stat_result) -> None:
    """Give the new file the old one's owner and group: root fixing a user's checkout must not
    leave files the user can no longer edit. Best effort: only root may give a file away."""
    made = os.fstat(descriptor)
    if (made.st_uid, made.st_gid) != (status.st_uid, status.st_gid):
        with contextlib.suppress(OSError):
            os.fchown(descriptor, status.st_uid, status.st_gid)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
