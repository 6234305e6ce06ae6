"""Where a setting goes in a module, and how `app.conf` statements are extended in place.

A settings line goes right after the last top-level assignment of the same family (the block
of Celery settings) or at the end of the module. Only top-level assignments anchor it: when
every Celery setting sits inside a top-level `if`/`try`, the block is conditional, so the line
goes to the end of the module, outside it, where every run of the module sets it (the timeline
still checks that it overrides nothing). The exact text of that line comes from
`celeryfix.pysettings.layout` (libcst, loaded only for a module that changes). Settings given to
`app.conf.update(...)` are extended in place.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from celeryfix.models import Edit
from celeryfix.pysettings.apps import ConfAttribute, ConfUpdate
from celeryfix.pysettings.naming import Naming
from celeryfix.pysettings.sources import PythonSource


@dataclass(frozen=True)
class Spot:
    """An insertion point in a module, found with `ast` (cheap; used to choose a module)."""

    path: str
    offset: int
    anchor_line: int | None  # the line of the same-family assignment it follows, if any


def assigned_names(statement: ast.stmt) -> list[str]:
    """Names a top-level `X = ...` / `X: T = ...` statement binds."""
    if isinstance(statement, ast.Assign):
        targets = statement.targets
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        targets = [statement.target]
    else:
        return []
    return [target.id for target in targets if isinstance(target, ast.Name)]


def family_spot(source: PythonSource, naming: Naming) -> Spot:
    """After the last top-level assignment of the family, else at the end of the module."""
    anchor: ast.stmt | None = None
    for statement in source.tree.body:
        if any(naming.in_family(name) for name in assigned_names(statement)):
            anchor = statement
    if anchor is None:
        return Spot(source.path, len(source.text), None)
    assert anchor.end_lineno is not None
    return Spot(source.path, source.line_end(anchor.end_lineno), anchor.lineno)


@dataclass(frozen=True)
class ConfEntry:
    """One setting to add to `app.conf`."""

    name: str
    value: str
    rule: str


def conf_update_edits(
    source: PythonSource, update: ConfUpdate, entries: Sequence[ConfEntry]
) -> list[Edit]:
    """Edits adding `entries` to an `app.conf.update(...)` call, as keywords or dict items."""
    text = source.text
    if update.dict_literal is not None:
        container: ast.expr = update.dict_literal
        existing: list[ast.expr | ast.keyword] = list(update.dict_literal.values)
        render = _dict_item_renderer(source, update.dict_literal)
    else:
        container = update.call
        existing = [*update.call.args, *update.call.keywords]
        render = _keyword_renderer(source, update.call)
    closing = source.node_end(container) - 1  # the `)` or `}`
    if not existing:
        joined = ", ".join(render(entry) for entry in entries)
        return [Edit(source.path, closing, closing, joined, "+".join(e.rule for e in entries))]
    last = max(existing, key=source.node_end)
    last_end = source.node_end(last)
    between = text[last_end:closing]
    if "\n" not in between and "\r" not in between:  # all on one line
        return [
            Edit(source.path, last_end, last_end, f", {render(entry)}", entry.rule)
            for entry in entries
        ]
    line_start = source.line_starts[last.lineno - 1]
    line = text[line_start : source.line_end(last.lineno)]
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    if between.lstrip(" \t").startswith(","):  # one item a line, with a trailing comma
        at = source.line_end(_line_of(source, last_end + between.index(",")))
        newline = line_break_before(text, at) or "\n"
        return [
            Edit(source.path, at, at, f"{indent}{render(entry)},{newline}", entry.rule)
            for entry in entries
        ]
    line_end = source.line_end(_line_of(source, last_end))
    newline = line_break_before(text, line_end) or "\n"
    comment_end = line_end - len(newline)
    if text[last_end:comment_end].lstrip(" \t").startswith("#"):
        # `x=1  # why` with no trailing comma: the comma goes right after the argument and the
        # new items below the comment's line, so the comment stays with its own argument.
        comma = Edit(source.path, last_end, last_end, ",", "+".join(e.rule for e in entries))
        return [
            comma,
            *(
                Edit(
                    source.path,
                    comment_end,
                    comment_end,
                    f"{',' if index else ''}{newline}{indent}{render(entry)}",
                    entry.rule,
                )
                for index, entry in enumerate(entries)
            ),
        ]
    return [
        Edit(source.path, last_end, last_end, f",{newline}{indent}{render(entry)}", entry.rule)
        for entry in entries
    ]


def conf_attribute_edit(source: PythonSource, anchor: ConfAttribute, entry: ConfEntry) -> Edit:
    """An `app.conf.name = value` line after the last such top-level statement."""
    statement = anchor.statement
    assert statement.end_lineno is not None
    spacing = source.text[
        source.node_end(statement.targets[0]) : source.node_start(statement.value)
    ]
    at = source.line_end(statement.end_lineno)
    line = f"{anchor.target}.{entry.name}{spacing}{entry.value}"
    newline = line_break_before(source.text, at)
    if newline is None:  # the last line of a file without a final line break
        return Edit(source.path, at, at, first_line_break(source.text) + line, entry.rule)
    return Edit(source.path, at, at, line + newline, entry.rule)


def first_line_break(text: str) -> str:
    for index, char in enumerate(text):
        if char == "\r":
            return "\r\n" if text[index + 1 : index + 2] == "\n" else "\r"
        if char == "\n":
            return "\n"
    return "\n"


def _line_of(source: PythonSource, offset: int) -> int:
    """The 1-based line holding `offset`."""
    low, high = 0, len(source.line_starts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if source.line_starts[middle] <= offset:
            low = middle
        else:
            high = middle - 1
    return low + 1


def line_break_before(text: str, offset: int) -> str | None:
    """The line break that ends just before `offset`, if any."""
    if text[max(offset - 2, 0) : offset] == "\r\n":
        return "\r\n"
    if offset > 0 and text[offset - 1] in "\r\n":
        return text[offset - 1]
    return None


def _keyword_renderer(source: PythonSource, call: ast.Call) -> Callable[[ConfEntry], str]:
    spacing = ("", "")
    for keyword in call.keywords:
        if keyword.arg is not None:
            head = source.text[source.node_start(keyword) : source.node_start(keyword.value)]
            around = head[len(keyword.arg) :]
            before, _, after = around.partition("=")
            spacing = (before, after)
    return lambda entry: f"{entry.name}{spacing[0]}={spacing[1]}{entry.value}"


def _dict_item_renderer(source: PythonSource, literal: ast.Dict) -> Callable[[ConfEntry], str]:
    quote, colon = '"', ": "
    for key, value in zip(literal.keys, literal.values, strict=True):
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            key_text = source.segment(key)
            quote = "'" if key_text.startswith("'") else '"'
            colon = source.text[source.node_end(key) : source.node_start(value)]
    return lambda entry: f"{quote}{entry.name}{quote}{colon}{entry.value}"
