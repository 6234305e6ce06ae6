"""Apply a file's edits as text splices; overlapping edits are an internal error."""

from __future__ import annotations

from collections.abc import Iterable

from celeryfix.models import Edit


class EditConflict(Exception):
    """Two edits of one file overlap: a bug in the rules, never written."""


def merge_insertions(edits: Iterable[Edit]) -> list[Edit]:
    """Sorted edits, with insertions at the same offset joined in order (rule ids joined by +)."""
    merged: list[Edit] = []
    for edit in sorted(edits, key=lambda e: (e.path, e.start, e.end)):
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.path == edit.path
            and last.start == last.end == edit.start == edit.end
        ):
            rules = last.rule if edit.rule in last.rule.split("+") else f"{last.rule}+{edit.rule}"
            merged[-1] = Edit(last.path, last.start, last.end, last.text + edit.text, rules)
        else:
            merged.append(edit)
    return merged


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """`text` with every edit spliced in; raises EditConflict on overlaps or bad offsets."""
    ordered = merge_insertions(edits)
    pieces: list[str] = []
    cursor = 0
    for edit in ordered:
        if edit.start < cursor or edit.end < edit.start or edit.end > len(text):
            raise EditConflict(
                f"{edit.path}: edit {edit.rule} at {edit.start}-{edit.end} overlaps another"
                " edit or lies outside the file"
            )
        pieces.append(text[cursor : edit.start])
        pieces.append(edit.text)
        cursor = edit.end
    pieces.append(text[cursor:])
    return "".join(pieces)
