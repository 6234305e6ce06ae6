"""Decoding a file once and encoding it back byte for byte: UTF-8, BOM, CRLF, PEP 263 encodings.

Python itself is the oracle for source encodings: `compile()` accepts exactly the Python files
that decode, and `tokenize.detect_encoding` names the same codec.
"""

from __future__ import annotations

import codecs
import io
import tokenize
from pathlib import Path

import pytest

from celeryfix.textfile import TextFile, UndecodableFile, decode, python_encoding

PATH = Path("/repo/f")


def load(raw: bytes, *, python: bool = False) -> TextFile:
    return decode(PATH, "f", raw, python=python)


def test_utf8_round_trip() -> None:
    raw = "services:\n  w:\n    command: celery -A crm worker  # é ü\n".encode()
    file = load(raw)
    assert (file.text, file.encoding, file.bom, file.raw) == (raw.decode(), "utf-8", b"", raw)
    assert file.encode(file.text) == raw
    assert (file.path, file.relpath) == (PATH, "f")


def test_bom_is_kept_out_of_the_text_and_restored() -> None:
    raw = b"\xef\xbb\xbfA = 1\r\nB = 2\r\n"
    file = load(raw, python=True)
    assert file.bom == codecs.BOM_UTF8
    assert file.text == "A = 1\r\nB = 2\r\n"
    assert file.encode(file.text) == raw
    assert file.encode(file.text + "C = 3\r\n") == raw + b"C = 3\r\n"


def test_crlf_is_kept_in_the_text() -> None:
    raw = b"a: 1\r\nb: 2\r\n"
    file = load(raw)
    assert file.text == "a: 1\r\nb: 2\r\n"
    assert file.newline == "\r\n"
    assert file.encode(file.text.replace("b: 2", "b: 3")) == b"a: 1\r\nb: 3\r\n"


@pytest.mark.parametrize(
    ("raw", "newline"),
    [
        (b"a\nb\n", "\n"),
        (b"a\r\nb\r\n", "\r\n"),
        (b"a\r\nb\n", "\r\n"),  # mixed: the first line break decides
        (b"a\nb\r\n", "\n"),
        (b"no break at all", "\n"),
        (b"\nthen\r\n", "\n"),
        (b"\xef\xbb\xbf\r\nx", "\r\n"),
        (b"", "\n"),
    ],
)
def test_newline(raw: bytes, newline: str) -> None:
    assert load(raw).newline == newline


def test_no_final_newline_round_trip() -> None:
    raw = b"\xef\xbb\xbfa = 1\r\nb = 2"
    file = load(raw, python=True)
    assert file.text == "a = 1\r\nb = 2"
    assert file.encode(file.text) == raw


def test_latin1_declaration() -> None:
    raw = b"# -*- coding: latin-1 -*-\r\nNAME = 'Soci\xe9t\xe9'\r\n"
    file = load(raw, python=True)
    assert file.encoding == "iso8859-1"
    assert file.text == "# -*- coding: latin-1 -*-\r\nNAME = 'Société'\r\n"
    assert file.encode(file.text) == raw
    edited = file.text + "CELERY_WORKER_HIJACK_ROOT_LOGGER = False\r\n"
    assert file.encode(edited) == raw + b"CELERY_WORKER_HIJACK_ROOT_LOGGER = False\r\n"


def test_declarations_count_only_in_python_files() -> None:
    raw = b"# -*- coding: latin-1 -*-\nname: '\xe9'\n"
    with pytest.raises(UndecodableFile, match="not valid utf-8 at byte 33"):
        load(raw)
    assert load(raw, python=True).text.endswith("name: 'é'\n")


# Python files that Python itself compiles: the decoded encoding must match Python's choice.
ACCEPTED = {
    "plain": b"x = 1\n",
    "latin-1": b"# -*- coding: latin-1 -*-\nA = '\xe9'\n",
    "after-shebang": b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\nA = '\xe9'\n",
    "after-blank-line": b"\n# coding=cp1251\nA = '\xe9'\n",
    "vim": b"# vim: set fileencoding=latin-1 :\nA = '\xe9'\n",
    "indented": b"   # coding: latin-1\nA = '\xe9'\n",
    "form-feed": b"\x0c# coding: latin-1\nA = '\xe9'\n",
    "utf8-alias": b"# coding: utf8\nA = '\xc3\xa9'\n",
    "bom-and-utf-8": b"\xef\xbb\xbf# coding: utf-8\nA = '\xc3\xa9'\n",
    "utf-8-sig-without-bom": b"# coding: utf-8-sig\nA = 1\n",
    "crlf-latin-1": b"# -*- coding: latin-1 -*-\r\nA = '\xe9'\r\n",
    "after-code-ignored": b"A = 1\n# coding: latin-1\n",
    "third-line-ignored": b"#!/usr/bin/env python\n#\n# coding: latin-1\nA = 1\n",
    "koi8-r": b"# coding: koi8-r\nA = '\xc1'\n",
}
REFUSED = {
    "unknown": b"# coding: no-such-codec\nA = 1\n",
    "rot13": b"# coding: rot13\nA = 1\n",
    "hex": b"# coding: hex\nA = 1\n",
    "utf-16": b"# coding: utf-16\nA = 11\n",
    "bom-and-latin-1": b"\xef\xbb\xbf# coding: latin-1\nA = 1\n",
    "invalid-utf-8": b"A = '\xe9'\n",
    "wrong-declared": b"# coding: ascii\nA = '\xe9'\n",
}


@pytest.mark.parametrize("raw", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_python_accepts_and_agrees_on_the_encoding(raw: bytes) -> None:
    compile(raw, "f.py", "exec")
    detected, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    file = load(raw, python=True)
    python_choice = "utf-8" if detected == "utf-8-sig" else codecs.lookup(detected).name
    assert file.encoding == python_choice
    assert file.text == raw[len(file.bom) :].decode(detected.replace("-sig", ""))
    assert file.encode(file.text) == raw


@pytest.mark.parametrize("raw", REFUSED.values(), ids=REFUSED.keys())
def test_python_refuses_and_so_do_we(raw: bytes) -> None:
    with pytest.raises(SyntaxError):
        compile(raw, "f.py", "exec")
    with pytest.raises(UndecodableFile):
        load(raw, python=True)


def test_python_encoding_default_and_errors() -> None:
    assert python_encoding(b"") == "utf-8"
    assert python_encoding(b"# just a comment\n# another\n") == "utf-8"
    with pytest.raises(LookupError):
        python_encoding(b"# coding: rot13\n")


def test_error_messages() -> None:
    with pytest.raises(UndecodableFile, match="unusable source encoding"):
        load(REFUSED["unknown"], python=True)
    with pytest.raises(UndecodableFile, match="BOM contradicts the declared encoding iso8859-1"):
        load(REFUSED["bom-and-latin-1"], python=True)
    # The byte offset counts the BOM: it is the offset in the file.
    with pytest.raises(UndecodableFile, match="not valid utf-8 at byte 8"):
        load(b"\xef\xbb\xbfA = '\xe9'\n")


@pytest.mark.parametrize(
    "raw",
    [
        "services: {}\n".encode("utf-16"),  # with its BOM
        "services: {}\n".encode("utf-16-le"),  # without: NUL bytes
        "services: {}\n".encode("utf-16-be"),
        "services: {}\n".encode("utf-32"),
        b"\x7fELF\x02\x01\x01\x00\x00\x00",
        b"a = 1\n\x00",
    ],
    ids=["utf-16", "utf-16-le", "utf-16-be", "utf-32", "elf", "nul"],
)
@pytest.mark.parametrize("python", [False, True], ids=["text", "python"])
def test_binary_and_utf16_are_refused(raw: bytes, python: bool) -> None:
    with pytest.raises(UndecodableFile):
        load(raw, python=python)


def test_utf16_message() -> None:
    with pytest.raises(UndecodableFile, match="UTF-16/32"):
        load(codecs.BOM_UTF16_LE + "x".encode("utf-16-le"))
    with pytest.raises(UndecodableFile, match="NUL bytes"):
        load(b"x\x00y")


def test_lone_carriage_returns_and_odd_characters_survive() -> None:
    raw = "a\rb\r\nc\u2028d\x0ce\u00a0\n".encode()
    file = load(raw)
    assert file.text == "a\rb\r\nc\u2028d\x0ce\u00a0\n"
    assert file.encode(file.text) == raw
