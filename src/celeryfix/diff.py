"""Unified diffs that `git apply` accepts: a/ and b/ paths, no timestamps, CRLF kept."""

from __future__ import annotations

import difflib

NO_NEWLINE = "\\ No newline at end of file\n"
_NO_LF = "\x00no-final-newline"
# git's C-style quoting of file names (quote.c); other control characters become octal.
_C_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\a": "\\a",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\v": "\\v",
    "\f": "\\f",
    "\r": "\\r",
}


def _lines(text: str) -> list[str]:
    # Split on LF only: a CRLF line keeps its CR, as git's own diffs do.
    return text.split("\n") if text else []


def unified_diff(relpath: str, old: str, new: str, context: int = 3) -> str:
    """The diff of one file, relative to its repository root ('' when unchanged)."""
    if old == new:
        return ""
    old_lines, new_lines = _lines(old), _lines(new)
    old_final = not old or old.endswith("\n")
    new_final = not new or new.endswith("\n")
    old_lines = _mark_last_line(old_lines, old_final)
    new_lines = _mark_last_line(new_lines, new_final)
    out = [f"--- {_header_path('a/' + relpath)}\n", f"+++ {_header_path('b/' + relpath)}\n"]
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        out.append(_hunk_header(first[1], last[2], first[3], last[4]))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(_emit(" ", old_lines, i1, i2))
                continue
            if tag in {"replace", "delete"}:
                out.extend(_emit("-", old_lines, i1, i2))
            if tag in {"replace", "insert"}:
                out.extend(_emit("+", new_lines, j1, j2))
    return "".join(out)


def _header_path(path: str) -> str:
    """The path as git writes it after ---/+++: C-quoted when it holds control characters, a
    quote or a backslash; followed by a tab when it holds a space (the tab ends the name)."""
    if any(char in _C_ESCAPES or char < " " or char == "\x7f" for char in path):
        return '"' + "".join(_c_escape(char) for char in path) + '"'
    return f"{path}\t" if " " in path else path


def _c_escape(char: str) -> str:
    if char in _C_ESCAPES:
        return _C_ESCAPES[char]
    return f"\\{ord(char):03o}" if char < " " or char == "\x7f" else char


def _hunk_header(i1: int, i2: int, j1: int, j2: int) -> str:
    def span(start: int, stop: int) -> str:
        length = stop - start
        if length == 1:
            return str(start + 1)
        return f"{start + 1 if length else start},{length}"

    return f"@@ -{span(i1, i2)} +{span(j1, j2)} @@\n"


def _mark_last_line(lines: list[str], final_newline: bool) -> list[str]:
    """Drop the empty piece after a final LF, or mark a last line that has no LF.

    The mark makes "b" (last, no LF) differ from "b\n", as it does in the bytes.
    """
    if final_newline:
        return lines[:-1]
    return [*lines[:-1], lines[-1] + _NO_LF] if lines else lines


def _emit(prefix: str, lines: list[str], start: int, stop: int) -> list[str]:
    out = []
    for line in lines[start:stop]:
        if line.endswith(_NO_LF):
            out.extend([f"{prefix}{line[: -len(_NO_LF)]}\n", NO_NEWLINE])
        else:
            out.append(f"{prefix}{line}\n")
    return out
