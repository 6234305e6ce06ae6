"""The repository's Python files: text, parsed lazily, and positions as text offsets."""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Mapping
from functools import cached_property

from celeryfix.pysettings.errors import SettingsSyntaxError, TemplatedFile

# Python's tokenizer breaks lines at these, and only these.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TEMPLATE_MARKUP = ("{{", "{%")


class PythonSource:
    """One Python file: its text, its syntax tree (parsed once), and offset arithmetic."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self._tree: ast.Module | None = None
        self._error: SettingsSyntaxError | TemplatedFile | None = None

    @property
    def tree(self) -> ast.Module:
        """The module's syntax tree; raises SettingsSyntaxError, or TemplatedFile for Jinja."""
        if self._tree is None and self._error is None:
            self._parse()
        if self._error is not None:
            raise self._error
        assert self._tree is not None
        return self._tree

    def _parse(self) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escapes etc. are not our business
                self._tree = ast.parse(self.text, self.path)
        except SyntaxError as error:
            if any(mark in self.text for mark in _TEMPLATE_MARKUP):
                self._error = TemplatedFile(self.path)
            else:
                self._error = SettingsSyntaxError(self.path, error.lineno or 1, error.msg)
        except (ValueError, RecursionError, MemoryError) as error:
            self._error = SettingsSyntaxError(self.path, 1, str(error) or type(error).__name__)

    @cached_property
    def line_starts(self) -> tuple[int, ...]:
        """Offset of the first character of each line (line 1 is index 0)."""
        return (0, *(match.end() for match in _LINE_BREAK.finditer(self.text)))

    def offset(self, line: int, col_bytes: int) -> int:
        """The text offset of an `ast` position (1-based line, UTF-8 byte column)."""
        start = self.line_starts[line - 1]
        end = self.line_starts[line] if line < len(self.line_starts) else len(self.text)
        head = self.text[start:end].encode("utf-8")[:col_bytes]
        return start + len(head.decode("utf-8", errors="ignore"))

    def node_start(self, node: ast.expr | ast.stmt | ast.keyword) -> int:
        """Offset of the first character of `node`."""
        return self.offset(node.lineno, node.col_offset)

    def node_end(self, node: ast.expr | ast.stmt | ast.keyword) -> int:
        """Offset just after the last character of `node`."""
        assert node.end_lineno is not None and node.end_col_offset is not None
        return self.offset(node.end_lineno, node.end_col_offset)

    def segment(self, node: ast.expr | ast.stmt | ast.keyword) -> str:
        """The source text of `node`."""
        return self.text[self.node_start(node) : self.node_end(node)]

    def line_end(self, line: int) -> int:
        """Offset just after line `line`, its line break included (the file's end on the last)."""
        return self.line_starts[line] if line < len(self.line_starts) else len(self.text)


class SourceIndex:
    """Every Python file of the repository, by repository-relative posix path."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self._files = files
        self._sources: dict[str, PythonSource] = {}

    @property
    def paths(self) -> Mapping[str, str]:
        return self._files

    def __contains__(self, path: object) -> bool:
        return path in self._files

    def get(self, path: str) -> PythonSource:
        """The file at `path` (which must exist)."""
        source = self._sources.get(path)
        if source is None:
            source = self._sources[path] = PythonSource(path, self._files[path])
        return source

    def tree_or_none(self, path: str) -> ast.Module | None:
        """The syntax tree of a file that only might matter; None when it does not parse."""
        try:
            return self.get(path).tree
        except (SettingsSyntaxError, TemplatedFile):
            return None
