"""Where each character of a YAML scalar's value came from in the source.

ruamel.yaml gives a scalar node its value and the marks of its first and last source characters,
but not where each value character was decoded from: quotes, escapes, line folding, indentation
and chomping all move characters around. celeryfix splices text into a compose `command:` at the
source offset just after a value character, so it needs that offset exactly.

The scalar is scanned again here the way ruamel.yaml 0.19's scanner scans it, keeping the source
span of every value character. The result is checked against what ruamel.yaml found (the value and
the end mark); anything that does not match exactly raises UnmappableScalar rather than give a map
that might be wrong.

Marks are character offsets into the text that was composed, so `source` must be that text: decoded,
BOM removed, line breaks as in the file. CRLF and lone CR breaks are handled; the YAML 1.1 breaks
NEL, LS and PS are refused, because ruamel.yaml's reader does not count them as line starts and
its columns (which block scalars depend on) go out of step with the text.
"""

from __future__ import annotations

import re

from ruamel.yaml.nodes import ScalarNode

from celeryfix.textmap import MappedText

Span = tuple[int, int]

_UNSUPPORTED_BREAKS = "\x85\u2028\u2029"
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)
# Double-quoted escapes of one character, as ruamel.yaml's scanner replaces them.
_ESCAPES = {
    "0": "\0",
    "a": "\x07",
    "b": "\x08",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\x0b",
    "f": "\x0c",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}
_HEX_DIGITS = "0123456789abcdefABCDEF"


class UnmappableScalar(Exception):
    """A scalar whose characters cannot be traced back to the source with certainty."""


class _Decoded:
    """Value characters with their source spans, built up while scanning."""

    def __init__(self, anchor: int) -> None:
        self.chars: list[str] = []
        self.spans: list[Span] = []
        self.anchor = anchor

    def copy(self, source: str, start: int, end: int) -> None:
        """Source characters that stand for themselves."""
        self.chars.extend(source[start:end])
        self.spans.extend((i, i + 1) for i in range(start, end))

    def produce(self, char: str, span: Span) -> None:
        """A character decoded from `span` (an escape, a quote pair, a folded line break)."""
        self.chars.append(char)
        self.spans.append(span)

    def mapped(self) -> MappedText:
        return MappedText("".join(self.chars), tuple(self.spans), self.anchor)


def scalar_value(node: ScalarNode) -> str:
    """The value an application sees: the round-trip composer's fold markers removed."""
    # ruamel.yaml's round-trip scanner marks each fold of a `>` scalar with "\a"; its constructor
    # drops them. The reader refuses a raw BEL, so a block scalar never holds a real one.
    if node.style == ">":
        return str(node.value).replace("\a", "")
    return str(node.value)


def scalar_value_map(source: str, node: ScalarNode) -> MappedText:
    """node's value, with spans[i] = [start, end) in `source` of what value[i] was decoded from.

    A character produced by a line fold maps to the line break it came from; so does a line break
    kept by block chomping. Raises UnmappableScalar where the map cannot be made with certainty.
    """
    start, end = node.start_mark.index, node.end_mark.index
    if not 0 <= start <= end <= len(source):
        raise UnmappableScalar("the node's marks lie outside the source text")
    if any(ch in _UNSUPPORTED_BREAKS for ch in source[start:end]):
        raise UnmappableScalar("the scalar holds a NEL/LS/PS line break")
    value = scalar_value(node)
    token = _token_start(source, start, end)
    if node.style is None:
        if not value:
            raise UnmappableScalar("an empty plain scalar has no place in the source")
        decoded, decoded_end = _decode_plain(source, token, end), end
    elif node.style in ("'", '"'):
        decoded, decoded_end = _decode_quoted(source, token, node.style == '"')
    elif node.style in ("|", ">"):
        return _map_block(source, token, node.style, value, end)
    else:
        raise UnmappableScalar(f"unknown scalar style {node.style!r}")
    mapped = decoded.mapped()
    if mapped.text != value or decoded_end != end:
        raise UnmappableScalar("the scalar does not decode to the value ruamel.yaml found")
    return mapped


def _token_start(source: str, start: int, end: int) -> int:
    """Where the scalar itself starts, after its anchor and tag (the node's mark covers them)."""
    pos = start
    while pos < end and source[pos] in "&!":
        if source.startswith(("!<", "!!<"), pos):
            close = source.find(">", pos)
            if close < 0:
                raise UnmappableScalar("unterminated verbatim tag")
            pos = close + 1
        else:
            stop = " \t\r\n" + (",[]{}" if source[pos] == "&" else "")
            while pos < end and source[pos] not in stop:
                pos += 1
        pos = _skip_separation(source, pos)
    return pos


def _skip_separation(source: str, pos: int) -> int:
    """Past white space, line breaks and comments between node properties and the scalar."""
    while pos < len(source):
        if source[pos] in " \t\r\n":
            pos += 1
        elif source[pos] == "#":
            while pos < len(source) and source[pos] not in "\r\n":
                pos += 1
        else:
            break
    return pos


def _break_length(source: str, pos: int) -> int:
    """Length of the line break at `pos` (CRLF, LF or CR), 0 if there is none."""
    if source.startswith("\r\n", pos):
        return 2
    return 1 if source[pos : pos + 1] in ("\r", "\n") else 0


def _skip_blank_lines(source: str, pos: int, blanks: str) -> tuple[int, list[Span]]:
    """Past `blanks` and line breaks; the spans of the line breaks passed."""
    breaks: list[Span] = []
    while True:
        while source[pos : pos + 1] != "" and source[pos] in blanks:
            pos += 1
        length = _break_length(source, pos)
        if not length:
            return pos, breaks
        breaks.append((pos, pos + length))
        pos += length


def _fold(out: _Decoded, first_break: Span, more_breaks: list[Span]) -> None:
    """A line break and the empty lines after it: one space, or one "\n" per empty line."""
    if more_breaks:
        for span in more_breaks:
            out.produce("\n", span)
    else:
        out.produce(" ", first_break)


def _decode_plain(source: str, start: int, end: int) -> _Decoded:
    """A plain scalar, whose source is [start, end) (it ends with its last word)."""
    if "\t" in source[start:end]:
        # ruamel.yaml ends a plain scalar at a tab, so one inside means the marks are not its own.
        raise UnmappableScalar("a tab inside a plain scalar")
    out = _Decoded(start)
    pos = start
    while pos < end:
        word_end = pos
        while word_end < end and source[word_end] not in " \r\n":
            word_end += 1
        out.copy(source, pos, word_end)
        if word_end >= end:
            break
        pos = word_end
        while pos < end and source[pos] == " ":
            pos += 1
        length = _break_length(source, pos)
        if not length:  # spaces inside a line are kept
            out.copy(source, word_end, pos)
            continue
        first_break = (pos, pos + length)
        pos, more_breaks = _skip_blank_lines(source, pos + length, " ")
        _fold(out, first_break, more_breaks)
    return out


def _decode_quoted(source: str, start: int, double: bool) -> tuple[_Decoded, int]:
    """A single- or double-quoted scalar starting at its opening quote; also returns its end."""
    quote = '"' if double else "'"
    if source[start : start + 1] != quote:
        raise UnmappableScalar("the scalar does not start with its quote")
    out = _Decoded(start + 1)
    pos = _quoted_non_spaces(source, start + 1, double, out)
    while source[pos : pos + 1] != quote:
        pos = _quoted_spaces(source, pos, out)
        pos = _quoted_non_spaces(source, pos, double, out)
    return out, pos + 1


def _quoted_non_spaces(source: str, pos: int, double: bool, out: _Decoded) -> int:
    """Past text, escapes and quote pairs, up to white space, a line break or the closing quote."""
    while True:
        run = pos
        while run < len(source) and source[run] not in " \t\r\n'\"\\":
            run += 1
        out.copy(source, pos, run)
        pos = run
        char = source[pos : pos + 1]
        if not double and char == "'" and source[pos + 1 : pos + 2] == "'":
            out.produce("'", (pos, pos + 2))
            pos += 2
        elif (double and char == "'") or (not double and char in ('"', "\\")):
            out.copy(source, pos, pos + 1)
            pos += 1
        elif double and char == "\\":
            pos = _escape(source, pos, out)
        else:
            return pos


def _escape(source: str, pos: int, out: _Decoded) -> int:
    """The double-quoted escape whose backslash is at `pos`; returns the offset after it."""
    code = source[pos + 1 : pos + 2]
    if code in _ESCAPES:
        out.produce(_ESCAPES[code], (pos, pos + 2))
        return pos + 2
    if code in _HEX_ESCAPES:
        digits = source[pos + 2 : pos + 2 + _HEX_ESCAPES[code]]
        if len(digits) != _HEX_ESCAPES[code] or any(d not in _HEX_DIGITS for d in digits):
            raise UnmappableScalar(f"bad escape \\{code}{digits}")
        try:
            out.produce(chr(int(digits, 16)), (pos, pos + 2 + len(digits)))
        except (ValueError, OverflowError):
            raise UnmappableScalar(f"bad escape \\{code}{digits}") from None
        return pos + 2 + len(digits)
    length = _break_length(source, pos + 1)
    if not length:
        raise UnmappableScalar(f"unknown escape \\{code}")
    # An escaped line break joins the lines: it and the next line's indentation give nothing,
    # but empty lines after it still give one "\n" each.
    pos, breaks = _skip_blank_lines(source, pos + 1 + length, " \t")
    for span in breaks:
        out.produce("\n", span)
    return pos


def _quoted_spaces(source: str, pos: int, out: _Decoded) -> int:
    """Past white space inside quotes: kept within a line, folded across line breaks."""
    blank = pos
    while source[pos : pos + 1] in (" ", "\t"):
        pos += 1
    length = _break_length(source, pos)
    if length:
        # Trailing white space before a line break is dropped, like the next line's indentation.
        first_break = (pos, pos + length)
        pos, more_breaks = _skip_blank_lines(source, pos + length, " \t")
        _fold(out, first_break, more_breaks)
        return pos
    if pos >= len(source):
        raise UnmappableScalar("unterminated quoted scalar")
    out.copy(source, blank, pos)
    return pos


def _map_block(source: str, start: int, style: str, value: str, end: int) -> MappedText:
    """A literal or folded block scalar starting at its indicator.

    The content indentation depends on the parent's indentation, which the node does not record,
    so every indentation the scalar could have is tried: the map is returned only if exactly one
    of them decodes to the value and the end ruamel.yaml found.
    """
    if source[start : start + 1] != style:
        raise UnmappableScalar("the block scalar does not start with its indicator")
    chomping, increment, body = _block_header(source, start)
    found: set[MappedText] = set()
    for indent, first_line in _block_indentations(source, body, increment, end):
        decoded, decoded_end = _block_body(source, body, indent, first_line, style == ">", chomping)
        mapped = decoded.mapped()
        if mapped.text == value and decoded_end == end:
            found.add(mapped)
    if len(found) != 1:
        raise UnmappableScalar("the block scalar does not decode to the value ruamel.yaml found")
    return found.pop()


def _block_header(source: str, start: int) -> tuple[str | None, int | None, int]:
    """The chomping indicator, the indentation indicator and where the content lines start."""
    pos = start + 1
    chomping: str | None = None
    increment: int | None = None
    for _ in range(2):
        char = source[pos : pos + 1]
        if char and char in "+-" and chomping is None:
            chomping = char
            pos += 1
        elif char and char in "123456789" and increment is None:
            increment = int(char)
            pos += 1
    while source[pos : pos + 1] == " ":
        pos += 1
    if source[pos : pos + 1] == "#":
        while pos < len(source) and source[pos] not in "\r\n":
            pos += 1
    length = _break_length(source, pos)
    if not length and pos < len(source):
        raise UnmappableScalar("unexpected text after the block scalar header")
    return chomping, increment, pos + length


_Lines = tuple[int, int, list[Span], int]  # position, column, empty line breaks, end mark


def _block_indentations(
    source: str, body: int, increment: int | None, end: int
) -> list[tuple[int, _Lines]]:
    """Each indentation the content could have, with the scan state at its first content line."""
    if increment is None:
        # Auto-detection: the first non-empty line's indentation, or more than that (the parent
        # is indented deeper: then the scalar has no content line). Leading empty lines lose all
        # their spaces either way.
        pos, column, deepest, breaks, end_mark = body, 0, 0, [], body
        while source[pos : pos + 1] in (" ", "\r", "\n"):
            if source[pos] == " ":
                pos, column = pos + 1, column + 1
                deepest = max(deepest, column)
            else:
                length = _break_length(source, pos)
                breaks.append((pos, pos + length))
                pos, column, end_mark = pos + length, 0, pos + length
        lines = (pos, column, breaks, end_mark)
        return [(deepest, lines), (deepest + 1, lines)]
    # An explicit indicator counts from the parent's indentation, which is at least 0. Any
    # indentation deeper than the scalar's lines and the line that ends it reads them the same.
    stop = end
    while stop < len(source) and source[stop] not in "\r\n":
        stop += 1
    deepest = max(len(line) - len(line.lstrip(" ")) for line in _lines(source[body:stop]))
    return [
        (indent, _block_breaks(source, body, indent))
        for indent in range(increment, max(increment, deepest) + 2)
    ]


def _lines(text: str) -> list[str]:
    return re.split("\r\n|\r|\n", text)


def _block_breaks(source: str, pos: int, indent: int) -> _Lines:
    """Past empty lines and up to `indent` spaces of indentation, from a line start."""
    breaks: list[Span] = []
    end_mark = pos
    column = 0
    while column < indent and source[pos : pos + 1] == " ":
        pos, column = pos + 1, column + 1
    while length := _break_length(source, pos):
        breaks.append((pos, pos + length))
        pos, column, end_mark = pos + length, 0, pos + length
        while column < indent and source[pos : pos + 1] == " ":
            pos, column = pos + 1, column + 1
    return pos, column, breaks, end_mark


def _block_body(
    source: str, body: int, indent: int, lines: _Lines, folded: bool, chomping: str | None
) -> tuple[_Decoded, int]:
    """The content lines at `indent`, folded or not, then chomped; also returns the end mark."""
    out = _Decoded(body)
    pos, column, breaks, end_mark = lines
    line_break: Span | None = None
    while column == indent and pos < len(source):
        for span in breaks:
            out.produce("\n", span)
        text_first = source[pos] not in " \t"
        line_end = pos
        while line_end < len(source) and source[line_end] not in "\r\n":
            line_end += 1
        out.copy(source, pos, line_end)
        length = _break_length(source, line_end)
        line_break = (line_end, line_end + length) if length else None
        pos, column, breaks, end_mark = _block_breaks(source, line_end + length, indent)
        if indent == 0 and _document_marker_at(source, pos):
            break
        if column != indent or pos >= len(source) or line_break is None:
            break
        if folded and text_first and source[pos] not in " \t":
            # Folding joins two text lines with a space; empty lines between them give the
            # "\n"s. More-indented lines keep their line breaks.
            if not breaks:
                out.produce(" ", line_break)
        else:
            out.produce("\n", line_break)
    if chomping != "-" and line_break is not None:
        out.produce("\n", line_break)
    if chomping == "+":
        for span in breaks:
            out.produce("\n", span)
    return out, end_mark


def _document_marker_at(source: str, pos: int) -> bool:
    return source[pos : pos + 3] in ("---", "...") and source[pos + 3 : pos + 4] in (
        "",
        " ",
        "\t",
        "\r",
        "\n",
    )


def can_insert_plain_text(node: ScalarNode, text: str, index: int | None = None) -> bool:
    """Whether `text` spliced in just after value[index - 1] reads back as exactly that text.

    The splice goes at `scalar_value_map(...).parent_offset_after(index)`, after a value
    character that is not white space; without `index` the answer holds for every such place.
    No style takes a line break, a BOM or a character YAML forbids. Then, by style:

    - block `|` / `>`: anything else (a line's text is taken as it stands);
    - single-quoted: no `'`; double-quoted: no `"` and no `\\`;
    - plain: no tab, no ` #` (a comment), no `: ` (a key), no `,[]{}` (the node may sit in a
      flow collection), and no text starting with white space just after a `:` (it would make
      `: `) or just after a first character `-`, `?` or `:` (an indicator then);
    - plain and quoted: trailing white space or (plain) a trailing `:` only when the next value
      character follows on the same line (a line fold drops trailing white space; `:` then a
      space or line end would be a key); plain also not before a `#`.
    """
    value = scalar_value(node)
    if not text:
        return True
    if _NOT_PRINTABLE.search(text) or any(ch in text for ch in "\r\n\ufeff" + _UNSUPPORTED_BREAKS):
        return False
    if index is not None and not (1 <= index <= len(value) and not value[index - 1].isspace()):
        return False
    if node.style in ("|", ">"):
        return True
    # Whether value[index] is text right after the insertion point in the source: two value
    # characters that are not white space are never split by a line fold.
    next_char = value[index] if index is not None and index < len(value) else ""
    glued = next_char != "" and not next_char.isspace()
    if text[-1] in " \t" and not glued:
        return False
    if node.style == "'":
        return "'" not in text
    if node.style == '"':
        return '"' not in text and "\\" not in text
    return _fits_plain(value, text, index, glued and next_char != "#")


def _fits_plain(value: str, text: str, index: int | None, glued: bool) -> bool:
    """The plain-scalar rules of can_insert_plain_text."""
    if "\t" in text or " #" in text or ": " in text or any(ch in text for ch in ",[]{}"):
        return False
    if text[-1] == " " and not glued:
        return False
    if text[-1] == ":" and not glued:
        return False
    if text[0] == " ":
        before = value[index - 1] if index is not None else None
        if before == ":" or (before is None and ":" in value):
            return False
        if (index is None or index == 1) and value[0] in "-?:":
            return False
    return True
