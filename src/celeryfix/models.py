"""The data that flows through the pipeline: edits planned by rules, and notes they report."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class NoteKind(str, Enum):
    """What a note tells the user."""

    SKIP = "skip"  # a place that looked fixable was left alone, with the reason
    ADVICE = "advice"  # something to do by hand
    INFO = "info"  # context for a fix (e.g. it may override a third-party value)


@dataclass(frozen=True, order=True)
class Edit:
    """Replace text[start:end] of the file at `path` (repository-relative, posix) with `text`.

    Offsets index the decoded text of the file (without BOM). An insertion has start == end.
    """

    path: str
    start: int
    end: int
    text: str
    rule: str


@dataclass(frozen=True, order=True)
class Note:
    """A finding that is not an edit: why something was skipped, or advice."""

    path: str
    line: int
    rule: str
    kind: NoteKind
    message: str
