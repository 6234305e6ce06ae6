"""The safe writer: exact bytes, the old mode, an atomic replace, never through a link or outside."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from celeryfix.textfile import decode
from celeryfix.writer import UnsafeWrite, check_inside, write_atomic


@pytest.fixture
def root(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    return repo


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_the_exact_bytes(root: Path) -> None:
    target = root / "docker-compose.yml"
    target.write_bytes(b"old\n")
    data = b"\xef\xbb\xbfservices:\r\n  w:\r\n    command: celery worker --uid=nobody\r\n"
    write_atomic(target, data, root)
    assert target.read_bytes() == data
    assert sorted(os.listdir(root)) == ["docker-compose.yml"]


@pytest.mark.parametrize(
    ("raw", "old", "new"),
    [
        (b"a = 1\r\nb = 2\r\n", "b = 2", "b = 3"),  # CRLF
        (b"\xef\xbb\xbfa = 1\nb = 2", "b = 2", "b = 3"),  # BOM, no final newline
        (b"# -*- coding: latin-1 -*-\nA = '\xe9'\n", "A = ", "B = "),  # a PEP 263 encoding
    ],
    ids=["crlf", "bom-no-final-newline", "latin-1"],
)
def test_decode_edit_encode_write_keeps_everything_else(
    root: Path, raw: bytes, old: str, new: str
) -> None:
    target = root / "settings.py"
    target.write_bytes(raw)
    file = decode(target, "settings.py", raw, python=True)
    write_atomic(target, file.encode(file.text.replace(old, new)), root)
    assert target.read_bytes() == raw.replace(old.encode(), new.encode())


@pytest.mark.parametrize("mode", [0o755, 0o600, 0o644, 0o640, 0o444])
def test_keeps_the_mode(root: Path, mode: int) -> None:
    target = root / "entrypoint.sh"
    target.write_bytes(b"#!/bin/sh\ncelery worker\n")
    target.chmod(mode)
    write_atomic(target, b"#!/bin/sh\ncelery worker --uid=nobody\n", root)
    assert mode_of(target) == mode
    assert target.read_bytes() == b"#!/bin/sh\ncelery worker --uid=nobody\n"


def test_replaces_with_a_temp_file_from_the_same_folder(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = root / "deploy"
    folder.mkdir()
    target = folder / "compose.yml"
    target.write_bytes(b"old\n")
    target.chmod(0o755)
    old_inode = target.stat().st_ino
    real_replace = os.replace
    seen: list[tuple[Path, bytes, int]] = []

    def spy(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        # At the moment of the replace the temp file is complete, with the final mode.
        seen.append((Path(src), Path(src).read_bytes(), mode_of(Path(src))))
        assert Path(dst) == target and target.read_bytes() == b"old\n"
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_atomic(target, b"new\n", root)
    [(temp, data, temp_mode)] = seen
    assert temp.parent == folder and temp != target
    assert (data, temp_mode) == (b"new\n", 0o755)
    assert target.read_bytes() == b"new\n"
    assert target.stat().st_ino != old_inode  # a new file took the name: readers never see half
    assert sorted(os.listdir(folder)) == ["compose.yml"]


def test_failed_replace_leaves_the_file_and_no_temp(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = root / "docker-compose.yml"
    target.write_bytes(b"old\r\n")
    target.chmod(0o600)
    temps: list[Path] = []

    def broken_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        temps.append(Path(src))
        assert Path(src).exists()
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        write_atomic(target, b"new\r\n", root)
    assert target.read_bytes() == b"old\r\n"
    assert mode_of(target) == 0o600
    assert temps and not temps[0].exists()
    assert sorted(os.listdir(root)) == ["docker-compose.yml"]


def test_failure_while_writing_the_temp_file_leaves_no_temp(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = root / "settings.py"
    target.write_bytes(b"A = 1\n")

    def broken_fsync(descriptor: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="Input/output"):
        write_atomic(target, b"A = 2\n", root)
    assert target.read_bytes() == b"A = 1\n"
    assert sorted(os.listdir(root)) == ["settings.py"]


def test_interrupt_also_cleans_up(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = root / "settings.py"
    target.write_bytes(b"A = 1\n")

    def interrupted(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, b"A = 2\n", root)
    assert sorted(os.listdir(root)) == ["settings.py"]


def test_missing_target_is_an_error_and_creates_nothing(root: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_atomic(root / "gone.yml", b"x\n", root)
    assert os.listdir(root) == []


def test_refuses_a_symlink_to_a_file_inside_the_root(root: Path) -> None:
    real = root / "docker-compose.base.yml"
    real.write_bytes(b"base\n")
    link = root / "docker-compose.yml"
    link.symlink_to(real.name)
    with pytest.raises(UnsafeWrite, match="symbolic link"):
        write_atomic(link, b"new\n", root)
    assert link.is_symlink() and os.readlink(link) == real.name
    assert real.read_bytes() == b"base\n"


def test_refuses_a_symlink_to_a_file_outside_the_root(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.yml"
    outside.write_bytes(b"secret\n")
    link = root / "compose.yml"
    link.symlink_to(outside)
    with pytest.raises(UnsafeWrite):
        write_atomic(link, b"new\n", root)
    assert outside.read_bytes() == b"secret\n"
    assert link.is_symlink()


def test_refuses_a_file_reached_through_a_linked_folder_outside(root: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "settings.py").write_bytes(b"A = 1\n")
    (root / "conf").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UnsafeWrite, match="outside the repository"):
        write_atomic(root / "conf" / "settings.py", b"A = 2\n", root)
    assert (elsewhere / "settings.py").read_bytes() == b"A = 1\n"
    assert os.listdir(elsewhere) == ["settings.py"]


def test_refuses_a_path_outside_the_root(root: Path, tmp_path: Path) -> None:
    sibling = tmp_path / "repo-other"  # shares the prefix "repo" but is not inside it
    sibling.mkdir()
    target = sibling / "settings.py"
    target.write_bytes(b"A = 1\n")
    with pytest.raises(UnsafeWrite, match="outside the repository"):
        write_atomic(target, b"A = 2\n", root)
    with pytest.raises(UnsafeWrite):
        write_atomic(root / ".." / "repo-other" / "settings.py", b"A = 2\n", root)
    assert target.read_bytes() == b"A = 1\n"


def test_a_root_reached_through_a_link_is_fine(root: Path, tmp_path: Path) -> None:
    (root / "settings.py").write_bytes(b"A = 1\n")
    alias = tmp_path / "alias"
    alias.symlink_to(root, target_is_directory=True)
    write_atomic(alias / "settings.py", b"A = 2\n", alias)
    assert (root / "settings.py").read_bytes() == b"A = 2\n"


def test_check_inside_accepts_a_nested_regular_file(root: Path) -> None:
    nested = root / "backend" / "crm"
    nested.mkdir(parents=True)
    (nested / "settings.py").write_bytes(b"")
    check_inside(nested / "settings.py", root)
