"""The exact text of an inserted settings line, in the module's own style, read with libcst.

libcst's tree renders back to the exact text, so statement ends, line breaks and the spacing
around `=` come from it. This is the only module of the package that imports libcst, and the
planner imports it only when a module will change: a run that changes no settings never loads it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import libcst as cst

from celeryfix.pysettings.placement import Spot, first_line_break, line_break_before
from celeryfix.pysettings.sources import PythonSource


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
            self.newline = first_line_break(source.text)
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
            newline = line_break_before(self.text, spot.offset) or newline
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
