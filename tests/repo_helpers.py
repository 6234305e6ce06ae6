"""Before/after helpers for rule tests: write a small repository, plan it, compare exact bytes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celeryfix.config import resolve_options
from celeryfix.engine import RepoResult, plan_repository


def write_repo(root: Path, files: dict[str, str | bytes]) -> None:
    for relpath, content in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


def plan(root: Path, files: dict[str, str | bytes], **cli: Any) -> RepoResult:
    write_repo(root, files)
    result = plan_repository(root, resolve_options(root, cli))
    assert result.error is None, result.error
    return result


def new_bytes(result: RepoResult) -> dict[str, bytes]:
    return {change.relpath: change.file.encode(change.new_text) for change in result.changes}


def check_transformed(
    root: Path, before: dict[str, str | bytes], after: dict[str, str | bytes], **cli: Any
) -> RepoResult:
    """Planning `before` changes exactly the files of `after`, to exactly those bytes."""
    result = plan(root, before, **cli)
    expected = {k: v if isinstance(v, bytes) else v.encode("utf-8") for k, v in after.items()}
    assert new_bytes(result) == expected
    return result


def check_noop(root: Path, files: dict[str, str | bytes], **cli: Any) -> RepoResult:
    """Planning `files` changes nothing; returns the result for its notes."""
    result = plan(root, files, **cli)
    assert new_bytes(result) == {}
    return result


def reasons(result: RepoResult) -> str:
    return "\n".join(note.message for note in result.notes)


def check_left_alone(
    root: Path, files: dict[str, str | bytes], rule: str, reason: str | None, **cli: Any
) -> RepoResult:
    """Planning `files` changes nothing, and says why: `reason` is in a note, or (None) the
    rule reports nothing at all."""
    result = check_noop(root, files, **cli)
    if reason is None:
        assert not [note for note in result.notes if note.rule == rule]
    else:
        assert reason in reasons(result)
    return result
