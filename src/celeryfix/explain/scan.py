"""Find the known warnings and errors in a log: plain Celery output or `docker compose logs`.

Each line loses its compose prefix (`celery-1  | `, `celery_1  | `, with `-t` a timestamp) and
its ANSI codes; lines are then grouped by that prefix, so a warning that spans lines is read in
its own service's output even where compose interleaves services.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from celeryfix.explain.catalog import CATALOG, Explained, Known, explain

# CSI sequences: colours, and the erase-line codes compose and terminals write.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
# compose v2 writes fmt.Sprintf("%-*s | ", width, name), coloured as a whole on a terminal, then
# with -t an RFC 3339 timestamp; docker-compose v1 wrote "name  | " as well. Only a reset may
# follow the prefix: a colour there is the service's own (Celery's coloured records).
_PREFIX = re.compile(
    r"(?:\x1b\[[0-9;]*m)?(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*) +\|(?: |$)(?:\x1b\[0?m)?"
    r"(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) ?)?"
)
_REPLICA = re.compile(r"[-_]\d+$")
# The line a multi-line message hangs from: `path.py:123: SomeWarning: ` (the warnings module)
# or `package.SomeError: ` (a traceback) with the message on the lines below.
_HEADER = re.compile(r"(?::\d+: \w*Warning|^[\w.]*(?:Error|Exception|ImproperlyConfigured)):\s*$")
# Any head of the catalog, groups unnamed: most lines match none, and one search says so.
_ANY_HEAD = re.compile(
    "|".join(
        "(?:" + re.sub(r"\(\?P<\w+>", "(?:", head.pattern) + ")"
        for known in CATALOG
        for head in known.heads
    ),
    re.MULTILINE,
)
TAIL_LINES = 8  # how far below its first line a message may end
BEFORE_LINES = 8  # how far above a traceback's last line its frames are read
_BLANKS_TO_HEADER = 2


@dataclass(frozen=True)
class LogLine:
    """One line of the log, as the service wrote it."""

    number: int  # 1-based, in the whole input
    stream: str  # the compose prefix (`celery-1`), or "" for plain output
    text: str  # without prefix, timestamp, ANSI codes and line break
    coloured: bool  # the service's own text carried ANSI codes


@dataclass(frozen=True)
class Finding:
    """A known warning or error: where it first appeared and what it means."""

    known: Known
    service: str | None  # the compose service (replica number dropped), None for plain logs
    excerpt: tuple[LogLine, ...]  # its first line down to the line that identified it
    explained: Explained

    @property
    def line(self) -> int:
        return self.excerpt[0].number

    @property
    def subject(self) -> str | None:
        return self.explained.values.get(self.known.subject) if self.known.subject else None


def log_lines(text: str) -> list[LogLine]:
    """Every line of `text` with its compose prefix, timestamp and ANSI codes removed."""
    pieces = text.split("\n")
    if pieces and pieces[-1] == "":
        pieces.pop()
    lines = []
    for number, raw in enumerate(pieces, 1):
        match = _PREFIX.match(raw)
        stream, message = (match["name"], raw[match.end() :]) if match else ("", raw)
        clean = _ANSI.sub("", message).rstrip("\r")
        lines.append(LogLine(number, stream, clean, "\x1b[" in message))
    return lines


def find_known(text: str) -> list[Finding]:
    """The known findings of a log, one per id, subject and service, in order of appearance."""
    first: dict[tuple[str, str | None, str | None], Finding] = {}
    for stream in _streams(log_lines(text)):
        for index, line in enumerate(stream):
            if not _ANY_HEAD.search(line.text):
                continue
            for known in CATALOG:
                finding = _match(known, stream, index)
                if finding is None:
                    continue
                key = (known.id, finding.subject, finding.service)
                if key not in first or finding.line < first[key].line:
                    first[key] = finding
    order = {known.id: position for position, known in enumerate(CATALOG)}
    return sorted(
        first.values(), key=lambda f: (f.line, order[f.known.id], f.subject or "", f.service or "")
    )


def _streams(lines: Sequence[LogLine]) -> list[list[LogLine]]:
    streams: dict[str, list[LogLine]] = {}
    for line in lines:
        streams.setdefault(line.stream, []).append(line)
    return list(streams.values())


def _match(known: Known, stream: Sequence[LogLine], index: int) -> Finding | None:
    line = stream[index]
    if known.coloured and not line.coloured:
        return None
    head = next((m for m in (p.search(line.text) for p in known.heads) if m), None)
    if head is None:
        return None
    groups = head.groupdict()
    if known.tail is not None:
        below = (other.text for other in stream[index + 1 : index + 1 + TAIL_LINES])
        tail = known.tail.search("\n".join([line.text[head.end() :], *below]))
        if tail is None:
            return None
        groups.update(tail.groupdict())
    if known.before is not None and not _above(known.before, stream, index):
        return None
    start = _first_line(stream, index) if not line.text[: head.start()].strip() else index
    service = _REPLICA.sub("", line.stream) if line.stream else None
    return Finding(known, service, tuple(stream[start : index + 1]), explain(known, groups))


def _above(pattern: re.Pattern[str], stream: Sequence[LogLine], index: int) -> bool:
    """`pattern` is on one of the lines just above, within the same traceback."""
    for other in reversed(stream[max(0, index - BEFORE_LINES) : index]):
        if pattern.search(other.text):
            return True
        if other.text.startswith("Traceback (most recent call last)"):
            return False
    return False


def _first_line(stream: Sequence[LogLine], index: int) -> int:
    """Where a message that starts a line begins: the warning or exception header above it."""
    above = index - 1
    while above >= 0 and index - above <= _BLANKS_TO_HEADER and not stream[above].text.strip():
        above -= 1
    return above if above >= 0 and _HEADER.search(stream[above].text) else index
