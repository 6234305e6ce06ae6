"""Shell words with their offsets, split the way each consumer of the text splits them.

Three splitters, one per consumer:
- `split_compose_command`: a string `command:`/`entrypoint:` of a compose file, split by
  compose-go with github.com/mattn/go-shellwords v1.0.12 (the version docker compose v2.40 links);
- `parse_script`: a POSIX sh script (`sh -c` strings, start scripts), cut into simple commands;
- `split_shlex`: a string split by Python's `shlex.split` (watchfiles' `--args` and command target).

Every word keeps, for each character of its value, the span of the raw text it came from (a
`MappedText`), so an insertion point found in a word maps back to an offset of the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from celeryfix.textmap import MappedText


@dataclass(frozen=True)
class Word:
    """One word: its value after quote removal, mapped to the raw text it was split from."""

    chars: MappedText  # value, each character mapped to its raw span
    start: int  # raw span of the whole word, quotes included
    end: int

    @property
    def value(self) -> str:
        """The word as the program receives it."""
        return self.chars.text


@dataclass(frozen=True)
class SimpleCommand:
    """A simple command of a script: its argument words (no redirections, no keywords)."""

    words: tuple[Word, ...]
    end: int  # raw offset just after the last word: where arguments can be appended

    @property
    def argv(self) -> list[str]:
        """The values of the words."""
        return [word.value for word in self.words]


class ShellSyntaxError(ValueError):
    """Text the consumer would reject (compose) or that cannot be parsed reliably (scripts)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} at offset {offset}")
        self.offset = offset


class _WordBuilder:
    """Collects the characters of one word with their raw spans."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.spans: list[tuple[int, int]] = []
        self.start: int | None = None

    def begin(self, at: int) -> None:
        if self.start is None:
            self.start = at

    def add(self, char: str, start: int, end: int) -> None:
        self.begin(start)
        self.chars.append(char)
        self.spans.append((start, end))

    def add_raw(self, text: str, start: int, end: int) -> None:
        """Copy text[start:end] verbatim (a substitution kept inside the word)."""
        self.begin(start)
        for index in range(start, end):
            self.add(text[index], index, index + 1)

    def build(self, end: int) -> Word:
        start = end if self.start is None else self.start
        chars = MappedText("".join(self.chars), tuple(self.spans), start)
        return Word(chars, start, end)


# --- compose: github.com/mattn/go-shellwords v1.0.12, Parser.Parse with default options -------

_GO_SPACE = " \t\r\n"


def split_compose_command(text: str) -> list[Word]:
    """Split a string command exactly as docker compose does (go-shellwords, no env, no backticks).

    Compose stops reading at the first unquoted `;`, `&`, `|`, `<` or `>` and silently drops the
    rest (`compose_command_stop` tells where). `$`, `#`, `$(...)` and backticks are kept
    literally. Raises ShellSyntaxError where compose rejects the file ("invalid command line
    string"): unbalanced quotes, backticks or `$(`, a `(` not after `$`, a trailing backslash.
    """
    return _split_like_compose(text)[0]


def compose_command_stop(text: str) -> int | None:
    """Offset from which compose ignores a string command (`&&`, `;`, `|`, `>`...), or None."""
    return _split_like_compose(text)[1]


def _split_like_compose(text: str) -> tuple[list[Word], int | None]:
    words: list[Word] = []
    word = _WordBuilder()
    escaped = double = single = backquote = dollar = False
    got = False  # go-shellwords' `got != argNo`: the buffer holds a word (maybe empty, quoted)
    escape_start = 0
    stop: int | None = None
    for index, char in enumerate(text):
        if escaped:
            # go-shellwords drops every backslash outside single quotes, even inside `...`.
            word.add(char, escape_start, index + 1)
            escaped = False
            got = True
            continue
        if char == "\\":
            if single:
                word.add(char, index, index + 1)
            else:
                escaped = True
                escape_start = index
                word.begin(index)
            continue
        if char in _GO_SPACE:
            if single or double or backquote or dollar:
                word.add(char, index, index + 1)
            elif got:
                words.append(word.build(index))
                word = _WordBuilder()
                got = False
            continue
        if char == "`":
            if not single and not double and not dollar:
                backquote = not backquote
        elif char == ")":
            # A bare `)` toggles the `$(` state too (so `a ) b` is rejected at the end).
            if not single and not double and not backquote:
                dollar = not dollar
        elif char == "(":
            if not single and not double and not backquote:
                if dollar or not word.chars or word.chars[-1] != "$":
                    raise ShellSyntaxError("compose rejects a '(' that does not open '$('", index)
                dollar = True
                word.add(char, index, index + 1)
                continue
        elif char == '"':
            if not single and not dollar:
                word.begin(index)
                got = got or double
                double = not double
                continue
        elif char == "'":
            if not double and not dollar:
                word.begin(index)
                got = got or single
                single = not single
                continue
        elif char in ";&|<>" and not (single or double or backquote or dollar):
            stop = index
            if char == ">" and word.chars and "0" <= word.chars[0] <= "9":
                # `2>&1`: a file descriptor, not a word (go-shellwords checks the first byte).
                stop = index if word.start is None else word.start
                got = False
            break
        got = True
        word.add(char, index, index + 1)
    if escaped or single or double or backquote or dollar:
        raise ShellSyntaxError(
            "compose rejects an unterminated quote, escape or substitution", len(text)
        )
    if got:
        words.append(word.build(len(text) if stop is None else stop))
    return words, stop


# --- Python's shlex.split (posix mode, no comments) --------------------------------------------


def split_shlex(text: str) -> list[Word]:
    """Split `text` as `shlex.split(text)` does; raises ShellSyntaxError where it raises."""
    words: list[Word] = []
    word = _WordBuilder()
    quote = ""  # the open quote, if any
    in_word = False
    index = 0
    while index < len(text):
        char = text[index]
        if quote == "'":
            if char == "'":
                quote = ""
            else:
                word.add(char, index, index + 1)
            index += 1
        elif char == "\\" and quote != "'":
            if index + 1 >= len(text):
                raise ShellSyntaxError("no escaped character", index)
            nxt = text[index + 1]
            if quote == '"' and nxt not in '"\\':
                word.add("\\", index, index + 1)  # shlex keeps other backslashes in "..."
                index += 1
                continue
            word.add(nxt, index, index + 2)
            in_word = True
            index += 2
        elif quote == '"':
            if char == '"':
                quote = ""
            else:
                word.add(char, index, index + 1)
            index += 1
        elif char in " \t\r\n":
            if in_word:
                words.append(word.build(index))
                word = _WordBuilder()
                in_word = False
            index += 1
        else:
            if char in "'\"":
                quote = char
                word.begin(index)
            else:
                word.add(char, index, index + 1)
            in_word = True
            index += 1
    if quote:
        raise ShellSyntaxError("no closing quotation", len(text))
    if in_word:
        words.append(word.build(len(text)))
    return words


# --- POSIX sh scripts ----------------------------------------------------------------------------

_OPERATORS = (";;&", ";;", ";&", ";", "&&", "&", "||", "|&", "|", "(", ")")
_REDIRECTIONS = ("&>>", "<<<", "<<-", "&>", "<<", "<>", "<&", ">>", ">&", ">|", "<", ">")
_IO_NUMBER = re.compile(r"\d+(?=[<>])")
_ARRAY_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
_BLANK = " \t"
_WORD_END = " \t\n;&|<>()"

# Reserved words that only introduce or continue a compound command: skipped before a command.
_PREFIX_KEYWORDS = frozenset({"if", "then", "else", "elif", "while", "until", "do", "!", "{"})
_CLOSING_KEYWORDS = frozenset({"fi", "done", "}", "esac"})
_CASE_END = frozenset({";;", ";&", ";;&"})

_ANSI_C_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}


@dataclass(frozen=True)
class _Token:
    kind: Literal["word", "op", "redirection"]
    text: str  # the operator, or the raw text of the word
    start: int
    end: int
    word: Word | None = None


def parse_script(text: str, *, strict: bool = False) -> list[SimpleCommand]:
    """The simple commands of a POSIX sh script, in order, wherever they sit.

    Finds commands in `&&`/`||`/`;`/`&`/`|` lists, `if`/`while`/`for` bodies, `case` branches,
    `{ ...; }` and `( ... )` groups and function bodies. Redirections, comments, heredoc bodies
    and compound-command keywords are not words. `$(...)`, `${...}` and backticks stay inside
    their word, verbatim (commands nested in them are not listed).

    Never raises on odd input unless `strict`: an unterminated quote or substitution makes the
    rest of the script one word (best effort). With `strict=True` it raises ShellSyntaxError
    instead, so a caller can refuse to edit a script whose words may be wrong.
    """
    lexer = _ScriptLexer(text)
    tokens = list(lexer.tokens())
    if strict and lexer.error is not None:
        raise lexer.error
    return _simple_commands(tokens)


class _ScriptLexer:
    """Cuts a script into words, operators and redirections (with their targets)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.error: ShellSyntaxError | None = None
        self._heredocs: list[tuple[str, bool]] = []  # delimiters waiting for the next newline

    def _fail(self, message: str, offset: int) -> None:
        if self.error is None:
            self.error = ShellSyntaxError(message, offset)

    def tokens(self) -> Iterator[_Token]:
        text, pos = self.text, 0
        while pos < len(text):
            char = text[pos]
            if char in _BLANK:
                pos += 1
            elif text.startswith("\\\n", pos):
                pos += 2  # a line continuation between words
            elif char == "\n":
                yield _Token("op", "\n", pos, pos + 1)
                pos = self._skip_heredoc_bodies(pos + 1)
            elif char == "#":
                newline = text.find("\n", pos)
                pos = len(text) if newline < 0 else newline
            elif char in "<>" and text.startswith("(", pos + 1):
                word, pos = self._read_word(pos)  # bash process substitution <(...) >(...)
                yield _Token("word", text[word.start : word.end], word.start, word.end, word)
            else:
                token = self._operator(pos)
                if token is None:
                    word, pos = self._read_word(pos)
                    yield _Token("word", text[word.start : word.end], word.start, word.end, word)
                else:
                    yield token
                    pos = token.end

    def _operator(self, pos: int) -> _Token | None:
        text = self.text
        number = _IO_NUMBER.match(text, pos)
        op_start = number.end() if number else pos
        for redirection in _REDIRECTIONS:
            if text.startswith(redirection, op_start):
                return self._redirection(pos, op_start + len(redirection), redirection)
        if number is None:
            for operator in _OPERATORS:
                if text.startswith(operator, pos):
                    return _Token("op", operator, pos, pos + len(operator))
        return None

    def _redirection(self, start: int, pos: int, operator: str) -> _Token:
        """A redirection with its target word, which is not an argument."""
        text = self.text
        while pos < len(text) and (text[pos] in _BLANK or text.startswith("\\\n", pos)):
            pos += 1 if text[pos] in _BLANK else 2
        if pos < len(text) and text[pos] not in _WORD_END:
            target, pos = self._read_word(pos)
            if operator in ("<<", "<<-"):
                self._heredocs.append((target.value, operator == "<<-"))
        return _Token("redirection", operator, start, pos)

    def _skip_heredoc_bodies(self, pos: int) -> int:
        text = self.text
        for delimiter, strip_tabs in self._heredocs:
            while pos < len(text):
                newline = text.find("\n", pos)
                line_end = len(text) if newline < 0 else newline
                line = text[pos:line_end]
                pos = line_end + 1 if newline >= 0 else len(text)
                if (line.lstrip("\t") if strip_tabs else line) == delimiter:
                    break
        self._heredocs.clear()
        return pos

    def _read_word(self, pos: int) -> tuple[Word, int]:
        text, word = self.text, _WordBuilder()
        word.begin(pos)
        while pos < len(text):
            char = text[pos]
            if char == "(" and _ARRAY_ASSIGNMENT.fullmatch("".join(word.chars)):
                pos = self._copy_group(word, pos, pos + 1, "(", ")")  # bash a=(x y)
            elif char in "<>" and pos == word.start and text.startswith("(", pos + 1):
                pos = self._copy_group(word, pos, pos + 2, "(", ")")
            elif char in _WORD_END:
                break
            elif char == "\\":
                if text.startswith("\n", pos + 1):
                    pos += 2
                elif pos + 1 < len(text):
                    word.add(text[pos + 1], pos, pos + 2)
                    pos += 2
                else:
                    word.add(char, pos, pos + 1)
                    pos += 1
            elif char == "'":
                pos = self._single_quoted(word, pos)
            elif char == '"':
                pos = self._double_quoted(word, pos)
            elif char == "$":
                pos = self._dollar(word, pos, in_double_quotes=False)
            elif char == "`":
                pos = self._copy_backquoted(word, pos)
            else:
                word.add(char, pos, pos + 1)
                pos += 1
        return word.build(pos), pos

    def _single_quoted(self, word: _WordBuilder, pos: int) -> int:
        text = self.text
        close = text.find("'", pos + 1)
        if close < 0:
            self._fail("unterminated single quote", pos)
            close = len(text)
        word.begin(pos)
        for index in range(pos + 1, close):
            word.add(text[index], index, index + 1)
        return min(close + 1, len(text))

    def _double_quoted(self, word: _WordBuilder, pos: int) -> int:
        text = self.text
        word.begin(pos)
        index = pos + 1
        while index < len(text):
            char = text[index]
            if char == '"':
                return index + 1
            if char == "\\" and index + 1 < len(text):
                nxt = text[index + 1]
                if nxt == "\n":
                    index += 2
                elif nxt in '$`"\\':
                    word.add(nxt, index, index + 2)
                    index += 2
                else:
                    word.add(char, index, index + 1)
                    index += 1
            elif char == "$":
                index = self._dollar(word, index, in_double_quotes=True)
            elif char == "`":
                index = self._copy_backquoted(word, index)
            else:
                word.add(char, index, index + 1)
                index += 1
        self._fail("unterminated double quote", pos)
        return len(text)

    def _dollar(self, word: _WordBuilder, pos: int, *, in_double_quotes: bool) -> int:
        text = self.text
        nxt = text[pos + 1 : pos + 2]
        if nxt == "(":
            return self._copy_group(word, pos, pos + 2, "(", ")")
        if nxt == "{":
            return self._copy_group(word, pos, pos + 2, "{", "}")
        if nxt == "'" and not in_double_quotes:
            return self._ansi_c_quoted(word, pos)
        if nxt == '"' and not in_double_quotes:
            word.begin(pos)  # bash $"..." (translated string): the $ is dropped
            return self._double_quoted(word, pos + 1)
        word.add("$", pos, pos + 1)
        return pos + 1

    def _copy_group(
        self, word: _WordBuilder, start: int, pos: int, opener: str, closer: str
    ) -> int:
        """Copy `$(...)`, `${...}` (opened before `pos`) verbatim into the word."""
        end = _scan_group(self.text, pos, opener, closer)
        if end < 0:
            self._fail(f"unterminated {self.text[start:pos]}", start)
            end = len(self.text)
        word.add_raw(self.text, start, end)
        return end

    def _copy_backquoted(self, word: _WordBuilder, pos: int) -> int:
        end = _scan_backquoted(self.text, pos + 1)
        if end < 0:
            self._fail("unterminated backquote", pos)
            end = len(self.text)
        word.add_raw(self.text, pos, end)
        return end

    def _ansi_c_quoted(self, word: _WordBuilder, pos: int) -> int:
        """bash `$'...'`, with its escapes decoded."""
        text = self.text
        word.begin(pos)
        index = pos + 2
        while index < len(text):
            char = text[index]
            if char == "'":
                return index + 1
            if char == "\\" and index + 1 < len(text):
                value, length = _ansi_c_escape(text, index)
                word.add(value, index, index + length)
                index += length
            else:
                word.add(char, index, index + 1)
                index += 1
        self._fail("unterminated $'", pos)
        return len(text)


def _ansi_c_escape(text: str, pos: int) -> tuple[str, int]:
    """The character of the escape at text[pos] (a backslash) and the escape's length."""
    kind = text[pos + 1]
    if kind in _ANSI_C_ESCAPES:
        return _ANSI_C_ESCAPES[kind], 2
    patterns = {"x": r"[0-9A-Fa-f]{1,2}", "u": r"[0-9A-Fa-f]{1,4}", "U": r"[0-9A-Fa-f]{1,8}"}
    if kind in patterns:
        digits = re.compile(patterns[kind]).match(text, pos + 2)
        if digits and int(digits.group(), 16) <= 0x10FFFF:
            return chr(int(digits.group(), 16)), 2 + len(digits.group())
    octal = re.compile(r"[0-7]{1,3}").match(text, pos + 1)
    if octal:
        return chr(int(octal.group(), 8) & 0xFF), 1 + len(octal.group())
    if kind == "c" and pos + 2 < len(text):
        return chr(ord(text[pos + 2]) & 0x1F), 3
    return "\\", 1


def _scan_group(text: str, pos: int, opener: str, closer: str) -> int:
    """The offset just after the `closer` matching an already-open group, or -1."""
    depth = 1
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char == "'":
            close = text.find("'", pos + 1)
            if close < 0:
                return -1
            pos = close + 1
            continue
        if char == '"':
            pos = _scan_double_quoted(text, pos + 1)
        elif char == "`":
            pos = _scan_backquoted(text, pos + 1)
        elif char == "$" and text[pos + 1 : pos + 2] in ("(", "{"):
            inner = text[pos + 1]
            pos = _scan_group(text, pos + 2, inner, ")" if inner == "(" else "}")
        else:
            if char == opener:
                depth += 1
            elif char == closer:
                depth -= 1
                if depth == 0:
                    return pos + 1
            pos += 1
            continue
        if pos < 0:
            return -1
    return -1


def _scan_double_quoted(text: str, pos: int) -> int:
    """The offset just after the `"` closing a string opened before `pos`, or -1."""
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
        elif char == '"':
            return pos + 1
        elif char == "`":
            pos = _scan_backquoted(text, pos + 1)
            if pos < 0:
                return -1
        elif char == "$" and text[pos + 1 : pos + 2] in ("(", "{"):
            inner = text[pos + 1]
            pos = _scan_group(text, pos + 2, inner, ")" if inner == "(" else "}")
            if pos < 0:
                return -1
        else:
            pos += 1
    return -1


def _scan_backquoted(text: str, pos: int) -> int:
    """The offset just after the backquote closing one opened before `pos`, or -1."""
    while pos < len(text):
        if text[pos] == "\\":
            pos += 2
        elif text[pos] == "`":
            return pos + 1
        else:
            pos += 1
    return -1


def _simple_commands(tokens: list[_Token]) -> list[SimpleCommand]:
    """Group the tokens into simple commands, skipping the grammar of compound commands."""
    commands: list[SimpleCommand] = []
    current: list[Word] = []
    open_cases = 0
    in_pattern = False  # reading a `case` pattern list, up to its `)`
    index = 0

    def finish() -> None:
        if current:
            commands.append(SimpleCommand(tuple(current), current[-1].end))
            current.clear()

    def is_op(at: int, *ops: str) -> bool:
        return at < len(tokens) and tokens[at].kind == "op" and tokens[at].text in ops

    def is_word(at: int, *words: str) -> bool:
        return at < len(tokens) and tokens[at].kind == "word" and tokens[at].text in words

    while index < len(tokens):
        token = tokens[index]
        if in_pattern:
            if is_word(index, "esac"):
                open_cases -= 1
                in_pattern = False
            elif is_op(index, ")"):
                in_pattern = False
            index += 1
            while in_pattern and is_op(index, "\n"):
                index += 1
            continue
        if token.kind == "redirection":
            index += 1
            continue
        if token.kind == "op":
            if token.text == "(" and len(current) == 1 and is_op(index + 1, ")"):
                current.clear()  # `name() { ...; }` defines a function
                index += 2
                continue
            finish()
            if token.text in _CASE_END and open_cases:
                in_pattern = True
            index += 1
            continue
        assert token.word is not None
        if not current and token.text in _PREFIX_KEYWORDS:
            index += 1
        elif not current and token.text in _CLOSING_KEYWORDS:
            if token.text == "esac" and open_cases:
                open_cases -= 1
            index += 1
        elif not current and token.text == "case":
            index += 2  # `case` and its subject
            while is_op(index, "\n"):
                index += 1
            if is_word(index, "in"):
                index += 1
            open_cases += 1
            in_pattern = True
        elif not current and token.text in ("for", "select"):
            index = _skip_for_header(tokens, index + 1)
        elif not current and token.text == "function":
            index += 2
            if is_op(index, "(") and is_op(index + 1, ")"):
                index += 2
        else:
            current.append(token.word)
            index += 1
    finish()
    return commands


def _skip_for_header(tokens: list[_Token], index: int) -> int:
    """Skip `NAME [in WORDS...] ;` or bash `((...)) ;` after `for`, up to its `do`."""

    def is_op(at: int, *ops: str) -> bool:
        return at < len(tokens) and tokens[at].kind == "op" and tokens[at].text in ops

    if is_op(index, "("):
        depth = 0
        while index < len(tokens):
            if is_op(index, "("):
                depth += 1
            elif is_op(index, ")"):
                depth -= 1
                if depth == 0:
                    return index + 1
            index += 1
        return index
    index += 1  # the loop variable
    while is_op(index, "\n"):
        index += 1
    if index < len(tokens) and tokens[index].kind == "word" and tokens[index].text == "in":
        while index < len(tokens) and tokens[index].kind != "op":
            index += 1
    if is_op(index, ";", "\n"):
        index += 1
    return index
