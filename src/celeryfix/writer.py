"""Atomic writes that keep a file's mode, encoding, BOM and line breaks; never through a link."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


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
    """Replace `path` with `data`: a temp file beside it, fsync, the old mode and owner, then
    os.replace, so a reader (or a crash) sees the old bytes or the new, never a mix."""
    check_writable(path, root)
    status = path.stat()
    descriptor, temp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".celeryfix-tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _keep_owner(temp_name, status)
        os.chmod(temp_name, stat.S_IMODE(status.st_mode))
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_folder(path.parent)


def _keep_owner(temp_name: str, status: os.stat_result) -> None:
    """Give the new file the old one's owner and group: root fixing a user's checkout must not
    leave files the user can no longer edit. Best effort: only root may give a file away."""
    made = os.stat(temp_name)
    if (made.st_uid, made.st_gid) != (status.st_uid, status.st_gid):
        with contextlib.suppress(OSError):
            os.chown(temp_name, status.st_uid, status.st_gid)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
