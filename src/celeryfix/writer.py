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


def write_atomic(path: Path, data: bytes, root: Path) -> None:
    """Replace `path` with `data`: a temp file beside it, fsync, the old mode, then os.replace."""
    check_inside(path, root)
    mode = stat.S_IMODE(path.stat().st_mode)
    descriptor, temp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".celeryfix-tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
