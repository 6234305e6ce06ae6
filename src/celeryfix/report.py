"""What the user reads: diffs, per-file lines, notes, the summary, and the JSON report.

Pure functions of the results: byte-identical run to run (no timestamps, no absolute paths
beyond what the user typed).
"""

from __future__ import annotations

import json
import posixpath
from collections import Counter
from collections.abc import Sequence

from celeryfix import __version__
from celeryfix.diff import unified_diff
from celeryfix.engine import FileChange, RepoResult


def shown_path(result: RepoResult, relpath: str) -> str:
    """A file's path as the user sees it: the root they typed, then the relative path."""
    return posixpath.join(result.label, relpath) if result.label not in ("", ".") else relpath


def file_diff(change: FileChange) -> str:
    """The file's diff; a BOM stays in the first line, as git shows it, so the diff applies."""
    bom = change.file.bom.decode(change.file.encoding) if change.file.bom else ""
    return unified_diff(change.relpath, bom + change.file.text, bom + change.new_text)


def encoded_diff(change: FileChange) -> bytes:
    """The file's diff as `git diff` writes it: the ---/+++ lines name the file as the file
    system does (a name that is not UTF-8 keeps its bytes), every other line is in the file's
    own encoding, so the context of a latin-1 module matches its bytes for `git apply`."""
    diff = file_diff(change)
    cut = diff.find("\n", diff.find("\n") + 1) + 1  # after the ---/+++ lines
    return diff[:cut].encode("utf-8", "surrogateescape") + diff[cut:].encode(change.file.encoding)


def change_lines(results: Sequence[RepoResult], verb: str) -> list[str]:
    """`<verb> path (CF101, CF201)` for every changed file."""
    return [
        f"{verb} {shown_path(result, change.relpath)} ({', '.join(change.rules)})"
        for result in results
        for change in result.changes
    ]


def note_lines(results: Sequence[RepoResult], verbose: bool) -> list[str]:
    lines = []
    for result in results:
        for note in result.notes:
            if note.kind.value == "info" and not verbose:
                continue
            lines.append(
                f"{note.kind.value}: {shown_path(result, note.path)}:{note.line}: {note.rule}: {note.message}"
            )
    return lines


def error_lines(results: Sequence[RepoResult]) -> list[str]:
    return [f"error: {result.error}" for result in results if result.error]


def summary(results: Sequence[RepoResult], done: str) -> str:
    """One line: files changed (or to change), fixes by rule, skips, errors."""
    files = sum(len(r.changes) for r in results)
    by_rule = Counter(rule for r in results for c in r.changes for rule in c.rules)
    skipped = sum(1 for r in results for n in r.notes if n.kind.value == "skip")
    errors = sum(1 for r in results if r.error)
    parts = [f"{files} file{'s' if files != 1 else ''} {done}"]
    if by_rule:
        parts[0] += (
            " (" + ", ".join(f"{rule} x{count}" for rule, count in sorted(by_rule.items())) + ")"
        )
    parts.append(f"{skipped} skipped")
    if errors:
        parts.append(f"{errors} repositor{'ies' if errors != 1 else 'y'} failed")
    return ", ".join(parts)


def json_report(results: Sequence[RepoResult], written: bool) -> str:
    """The machine report: every repository, its changes with their diffs, notes and error."""
    document = {
        "celeryfix": __version__,
        "written": written,
        "repositories": [
            {
                "root": result.label,
                "error": result.error,
                "changes": [
                    {"path": change.relpath, "rules": list(change.rules), "diff": file_diff(change)}
                    for change in result.changes
                ],
                "notes": [
                    {
                        "path": note.path,
                        "line": note.line,
                        "rule": note.rule,
                        "kind": note.kind.value,
                        "message": note.message,
                    }
                    for note in result.notes
                ],
            }
            for result in results
        ],
    }
    return json.dumps(document, indent=2, sort_keys=False) + "\n"
