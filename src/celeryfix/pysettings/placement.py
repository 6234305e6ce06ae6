"""Where a setting goes in a module, and the exact text, in the module's own style.

A settings line goes right after the last top-level assignment of the same family (the block
of Celery settings) or at the end of the module. The target module is read with libcst, whose
tree renders back to the exact text: statement ends, line breaks and the spacing around `=`
come from it. Settings given to `app.conf.update(...)` are extended in place.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import libcst as cst

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
class _Statement:
    begin: int  # its first character, leading comment and blank lines included
    end: int  # just after its line break (the module's end for a last line without one)
    node: cst.BaseStatement


class ModuleLayout:
    """A module's top-level statements as exact text offsets, from libcst."""

    def __init__(self, source: PythonSource) -> None:
        self.text = source.text
        self._statements: list[_Statement] = []
        try:
            module = cst.parse_module(source.text)
        except (cst.ParserSyntaxError, RecursionError):
            # Syntax newer than libcst knows: `ast` accepted it, so place by text alone.
            self.newline = _first_line_break(source.text)
            self._spacing = (" ", " ")
            return
        self.newline = module.default_newline
        cursor = sum(len(module.code_for_node(line)) for line in module.header)
        for node in module.body:
            code = module.code_for_node(node)
            end = min(cursor + len(code), len(self.text))
            self._statements.append(_Statement(cursor, end, node))
            cursor += len(code)
        self._spacing = self._majority_spacing()

    def _statement_at(self, offset: int) -> _Statement | None:
        for statement in self._statements:
            if statement.begin <= offset < statement.end:
                return statement
        return None

    def line(self, spot: Spot, source: PythonSource, name: str, value: str) -> tuple[int, str]:
        """The offset and text that put `name = value` at `spot`, in the module's style."""
        spacing = self._spacing
        newline = self.newline
        if spot.anchor_line is not None:
            newline = _line_break_before(self.text, spot.offset) or newline
            statement = self._statement_at(source.line_starts[spot.anchor_line - 1])
            if statement is not None:
                if statement.end != spot.offset:
                    raise AssertionError(f"{spot.path}: libcst and ast disagree on a statement end")
                spacing = _spacing_of(statement.node) or spacing
            elif not self._statements:
                spacing = _text_spacing(source, spot.anchor_line) or spacing
        text = f"{name}{spacing[0]}={spacing[1]}{value}"
        if spot.offset == len(self.text) and self.text and not self.text.endswith(("\n", "\r")):
            return spot.offset, newline + text
        return spot.offset, text + newline

    def _majority_spacing(self) -> tuple[str, str]:
        counts: dict[tuple[str, str], int] = {}
        for statement in self._statements:
            spacing = _spacing_of(statement.node)
            if spacing is not None:
                counts[spacing] = counts.get(spacing, 0) + 1
        if not counts:
            return (" ", " ")
        return max(counts, key=lambda spacing: counts[spacing])


def _text_spacing(source: PythonSource, line: int) -> tuple[str, str] | None:
    """The spacing around `=` of the assignment on `line`, read from the text."""
    for statement in source.tree.body:
        if statement.lineno != line:
            continue
        if isinstance(statement, ast.AnnAssign) and statement.value is not None:
            head: ast.expr = statement.annotation
        elif isinstance(statement, ast.Assign):
            head = statement.targets[-1]
        else:
            continue
        assert statement.value is not None
        between = source.text[source.node_end(head) : source.node_start(statement.value)]
        before, equal, after = between.partition("=")
        if equal and not (before + after).strip(" \t"):
            return (before, after)
    return None


def _small_assignment(node: cst.BaseStatement) -> cst.Assign | cst.AnnAssign | None:
    if isinstance(node, cst.SimpleStatementLine):
        for small in node.body:
            if isinstance(small, cst.Assign) or (
                isinstance(small, cst.AnnAssign) and small.value is not None
            ):
                return small
    return None


def _spacing_of(node: cst.BaseStatement) -> tuple[str, str] | None:
    """The whitespace before and after `=` of an assignment statement."""
    small = _small_assignment(node)
    before: cst.BaseParenthesizableWhitespace
    after: cst.BaseParenthesizableWhitespace
    if isinstance(small, cst.Assign):
        target = small.targets[-1]
        before, after = target.whitespace_before_equal, target.whitespace_after_equal
    elif isinstance(small, cst.AnnAssign) and isinstance(small.equal, cst.AssignEqual):
        before, after = small.equal.whitespace_before, small.equal.whitespace_after
    else:
        return None
    if (
        isinstance(before, cst.SimpleWhitespace)
        and isinstance(after, cst.SimpleWhitespace)
        and "\\" not in before.value + after.value
    ):  # a line continuation around `=` is not a style to copy
        return (before.value, after.value)
    return None


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
        newline = _line_break_before(text, at) or "\n"
        return [
            Edit(source.path, at, at, f"{indent}{render(entry)},{newline}", entry.rule)
            for entry in entries
        ]
    newline = _line_break_before(text, source.line_end(_line_of(source, last_end))) or "\n"
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
    newline = _line_break_before(source.text, at)
    if newline is None:  # the last line of a file without a final line break
        return Edit(source.path, at, at, _first_line_break(source.text) + line, entry.rule)
    return Edit(source.path, at, at, line + newline, entry.rule)


def _first_line_break(text: str) -> str:
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


def _line_break_before(text: str, offset: int) -> str | None:
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
