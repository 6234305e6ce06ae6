"""`celeryfix apply`: plan every repository, then show, check or write, and choose the exit code."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any, TextIO

from celeryfix import report
from celeryfix.config import ConfigError, resolve_options
from celeryfix.engine import RepoResult, plan_repository
from celeryfix.writer import UnsafeWrite, check_writable, write_atomic

EXIT_OK, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2


class Mode(str, Enum):
    WRITE = "write"
    DRY_RUN = "dry-run"  # print diffs, write nothing
    CHECK = "check"  # list what would change, exit 1 if anything would


@dataclass(frozen=True)
class Request:
    paths: tuple[str, ...]
    mode: Mode
    cli_options: dict[str, Any]
    show_diff: bool = False
    as_json: bool = False
    quiet: bool = False
    verbose: bool = False
    jobs: int = 1
    exit_non_zero_on_fix: bool = False
    color: bool = False


def _repository_of(path: Path) -> tuple[Path, str | None]:
    """(repository root, file to restrict to): a folder is a root; a file's root is its git root."""
    if path.is_dir():
        return path, None
    for parent in path.resolve().parents:
        if (parent / ".git").exists() or (parent / "pyproject.toml").exists():
            return parent, path.resolve().relative_to(parent).as_posix()
    return path.resolve().parent, path.name


def plan_path(label: str, cli_options: dict[str, Any]) -> RepoResult:
    """Plan one PATH given on the command line."""
    path = Path(label)
    if not path.exists():
        return RepoResult(path, label, error=f"{label}: no such file or folder")
    root, only = _repository_of(path)
    try:
        options = resolve_options(root, cli_options)
    except ConfigError as error:
        return RepoResult(root, label, error=str(error))
    result = plan_repository(root, options, label if only is None else str(root))
    if only is not None:
        result.changes = [change for change in result.changes if change.relpath == only]
        result.notes = [note for note in result.notes if note.path == only]
        result.only = only
    return result


def _plan_all(request: Request) -> list[RepoResult]:
    if request.jobs > 1 and len(request.paths) > 1:
        with ProcessPoolExecutor(max_workers=request.jobs) as pool:
            return list(
                pool.map(plan_path, request.paths, [request.cli_options] * len(request.paths))
            )
    return [plan_path(path, request.cli_options) for path in request.paths]


def write_changes(result: RepoResult) -> RepoResult:
    """Write a repository's changes; on any failure put back what was written and report it."""
    written: list[tuple[Path, bytes]] = []
    try:
        # Every target first: a read-only file or folder stops the repository before any write.
        for change in result.changes:
            check_writable(change.file.path, result.root)
        for change in result.changes:
            if change.file.path.read_bytes() != change.file.raw:
                raise UnsafeWrite(f"{change.file.path}: changed on disk while celeryfix ran")
            write_atomic(change.file.path, change.file.encode(change.new_text), result.root)
            written.append((change.file.path, change.file.raw))
    except (OSError, UnsafeWrite) as error:
        message = (
            str(error)
            if isinstance(error, UnsafeWrite)
            else f"{getattr(error, 'filename', '')}: cannot write: {error.strerror}"
        )
        lost = _put_back(written, result.root)
        if lost:
            message += f"; could not put back the old {', '.join(lost)}"
        return replace(result, changes=[], error=message)
    return result


def _put_back(written: list[tuple[Path, bytes]], root: Path) -> list[str]:
    """Restore the files written before a failure; the ones that could not be restored."""
    lost = []
    for path, raw in reversed(written):
        try:
            write_atomic(path, raw, root)
        except (OSError, UnsafeWrite):
            lost.append(str(path))
    return lost


def _print(lines: Sequence[str], stream: TextIO) -> None:
    for line in lines:
        print(line, file=stream)


def _emit(stream: TextIO, data: bytes) -> None:
    """Bytes to a text stream, through its buffer when it has one (a real stdout): file names
    and contents go out as they are, whatever the stream's encoding and error handler (a
    strict UTF-8 stdout cannot print a file name that is not UTF-8)."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(data.decode("utf-8", "surrogateescape"))
        return
    stream.flush()
    buffer.write(data)
    buffer.flush()


def _print_out(lines: Sequence[str], stream: TextIO) -> None:
    """Lines for stdout: file names keep their bytes (see _emit)."""
    _emit(stream, "".join(f"{line}\n" for line in lines).encode("utf-8", "surrogateescape"))


@contextlib.contextmanager
def _lenient(stream: TextIO) -> Iterator[TextIO]:
    """`stream`, or a UTF-8 view of its buffer that writes a file name's own bytes."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        yield stream
        return
    stream.flush()
    view = io.TextIOWrapper(buffer, encoding="utf-8", errors="surrogateescape")
    try:
        yield view
    finally:
        view.flush()
        view.detach()  # the buffer stays open: it is the caller's stdout


def run(request: Request) -> int:
    """Carry out the request; return the exit code."""
    results = _plan_all(request)
    out, err = sys.stdout, sys.stderr
    if request.mode is Mode.WRITE:
        results = [write_changes(r) if r.changes and not r.error else r for r in results]
    if request.as_json:
        out.write(report.json_report(results, written=request.mode is Mode.WRITE))
    elif request.mode is Mode.DRY_RUN or (request.mode is Mode.WRITE and request.show_diff):
        _print_diffs(results, request.color, out)
    elif request.mode is Mode.CHECK:
        _print_out(report.change_lines(results, "would fix"), out)
    if not request.quiet:
        if request.mode is Mode.WRITE and not request.as_json:
            _print(report.change_lines(results, "fixed"), err)
        _print(report.note_lines(results, request.verbose), err)
    _print(report.error_lines(results), err)
    if not request.quiet:
        done = "changed" if request.mode is Mode.WRITE else "would change"
        print(report.summary(results, done), file=err)
    if any(r.error for r in results):
        return EXIT_ERROR
    changed = any(r.changes for r in results)
    if changed and (
        request.mode is Mode.CHECK or (request.exit_non_zero_on_fix and request.mode is Mode.WRITE)
    ):
        return EXIT_CHANGES
    return EXIT_OK


def _print_diffs(results: Sequence[RepoResult], color: bool, out: TextIO) -> None:
    changes = [change for result in results for change in result.changes]
    if not color:
        _emit(out, b"".join(report.encoded_diff(change) for change in changes))
        return
    from celeryfix.colordiff import print_colored

    with _lenient(out) as stream:
        print_colored("".join(report.file_diff(change) for change in changes), stream)
