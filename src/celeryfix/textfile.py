"""A file's bytes, decoded once, and encoded back exactly as they were.

Edits index the decoded text (BOM removed, line breaks kept as they are), so a splice never
touches the bytes around it: what was not edited encodes back to the same bytes.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

# PEP 263: the encoding declaration of a Python file, on line 1 or 2.
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)


class UndecodableFile(Exception):
    """The file is not text celeryfix can edit safely (binary, NUL bytes, wrong encoding)."""


@dataclass(frozen=True)
class TextFile:
    """One file of a repository, as read: `text` is what rules see and edit."""

    path: Path  # absolute
    relpath: str  # repository-relative, posix
    raw: bytes
    text: str
    encoding: str
    bom: bytes

    @property
    def newline(self) -> str:
        """The file's own line break: CRLF when its first line break is one, else LF."""
        first = self.text.find("\n")
        return "\r\n" if first > 0 and self.text[first - 1] == "\r" else "\n"

    def encode(self, text: str) -> bytes:
        """`text` (an edited `self.text`) as bytes in this file's encoding, BOM restored."""
        return self.bom + text.encode(self.encoding)


def python_encoding(raw: bytes) -> str:
    """The source encoding of a Python file: its PEP 263 declaration, else UTF-8.

    Raises LookupError for an unknown codec, and for one Python refuses for source code: not a
    text encoding (rot13, hex) or not ASCII-compatible (utf-16).
    """
    for line in raw.split(b"\n", 2)[:2]:
        match = _CODING.match(line)
        if match:
            name = codecs.lookup(match.group(1).decode("ascii")).name
            # Python reads utf-8-sig as utf-8: encoding back must not add a BOM the file lacks.
            name = "utf-8" if name == "utf-8-sig" else name
            if not _ascii_compatible(name):
                raise LookupError(f"{name!r} cannot encode Python source")
            return name
        if line.strip() and not line.lstrip().startswith(b"#"):
            break
    return "utf-8"


def _ascii_compatible(encoding: str) -> bool:
    probe = "# -*- coding -*-\n"
    try:
        return probe.encode(encoding) == probe.encode("ascii")
    except (LookupError, UnicodeError):
        return False


def decode(path: Path, relpath: str, raw: bytes, *, python: bool = False) -> TextFile:
    """Decode `raw` (UTF-8, or a Python file's declared encoding); refuse what is not text."""
    if raw.startswith(_UTF16_BOMS):
        raise UndecodableFile("UTF-16/32 text is not supported; convert the file to UTF-8")
    if b"\x00" in raw:
        raise UndecodableFile("binary data (NUL bytes)")
    bom = codecs.BOM_UTF8 if raw.startswith(codecs.BOM_UTF8) else b""
    try:
        encoding = python_encoding(raw[len(bom) :]) if python else "utf-8"
    except LookupError as error:
        raise UndecodableFile(f"unusable source encoding: {error}") from None
    if bom and encoding != "utf-8":
        raise UndecodableFile(f"a UTF-8 BOM contradicts the declared encoding {encoding}")
    try:
        text = raw[len(bom) :].decode(encoding)
    except UnicodeDecodeError as error:
        raise UndecodableFile(f"not valid {encoding} at byte {error.start + len(bom)}") from None
    return TextFile(path, relpath, raw, text, encoding, bom)
