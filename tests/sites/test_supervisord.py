"""The supervisord reader against configparser itself (as supervisord configures it).

`read_ini` must find the sections and values configparser finds, refuse what it refuses, and map
every character of a value back to the same character of the file.
"""

from __future__ import annotations

import configparser
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celeryfix.sites.supervisord import IniError, _expanded, read_ini
from celeryfix.textmap import MappedText


def configparser_view(text: str) -> dict[str, dict[str, str]] | None:
    """What supervisord's parser reads: the file opened with universal newlines."""
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    try:
        parser.read_file(io.StringIO(text, newline=None))
    except configparser.Error:
        return None
    view = {name: dict(parser.items(name, raw=True)) for name in parser.sections()}
    if parser.defaults():
        view["DEFAULT"] = dict(parser.defaults())
    return view


def reader_view(text: str) -> dict[str, dict[str, str]] | None:
    """The reader's sections, with DEFAULT's options merged into each as configparser does."""
    try:
        sections = read_ini(text)
    except IniError:
        return None
    own = {s.name: {k: v.text for k, (v, _) in s.options.items()} for s in sections}
    defaults = own.pop("DEFAULT", {})
    view = {name: {**defaults, **options} for name, options in own.items()}
    if defaults:
        view["DEFAULT"] = defaults
    return view


def check_map(text: str) -> None:
    for section in read_ini(text):
        for value, _ in section.options.values():
            for index, char in enumerate(value.text):
                start, end = value.spans[index]
                if char != "\n":
                    assert text[start:end] == char


EXAMPLES = [
    "[program:w]\ncommand=celery -A p worker\n",
    "[program:w]\ncommand = celery ; comment\nuser=app # too\n",
    "[program:w]\ncommand=a;b c#d\n",
    "[program:w]\ncommand=celery\n  -A p\n\n  worker ; x\n\n[other]\nk: v\n",
    "[program:w]\n  command=indented option\n    continued\n",
    "[a]\nk=1\n[a]\nk=2\nj=3\n",
    "[DEFAULT]\nuser=app\n[program:w]\ncommand=x\n",
    "k=v\n[a]\n",
    "[a]\n=v\n",
    "[a]\nnot an option\n",
    "[a]\r\nk = v\r\n  more\r\n",
    "[a]\rk=v\r",
    "; comment\n# comment\n[a]\nk=\n",
    "[a]\nk=v\n    ; comment line inside a value\n    tail\n",
]


@pytest.mark.parametrize("text", EXAMPLES)
def test_examples_read_as_configparser_reads_them(text: str) -> None:
    assert reader_view(text) == configparser_view(text)
    if reader_view(text) is not None:
        check_map(text)


_LINES = st.sampled_from(
    [
        "[program:w]",
        "[supervisord]",
        "[DEFAULT]",
        " [program:x] ",
        "command=celery -A p worker",
        "command = celery ; inline",
        "command=celery;not-a-comment",
        "user: app",
        "Key=Value # hash",
        "  continued words",
        "\tcontinued ; with comment",
        "    ; only a comment",
        "# comment",
        "; comment",
        "",
        "   ",
        "novalue",
        "=empty key",
        "k=",
        "k = %(ENV_X)s %%h",
        "k:v=w",
        "[unclosed",
        "[a] ; header comment",
        "  k2 = indented option",
        "x#y ;z",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_LINES, max_size=12), st.sampled_from(["\n", "\r\n"]), st.booleans())
def test_generated_files_read_as_configparser_reads_them(
    lines: list[str], newline: str, final: bool
) -> None:
    text = newline.join(lines) + (newline if final else "")
    assert reader_view(text) == configparser_view(text)
    if reader_view(text) is not None:
        check_map(text)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("celery -n w@%%h", "celery -n w@%h"),
        ("-l %(ENV_LEVEL)s", "-l ${ENV_LEVEL}"),
        ("%(process_num)02d:%(program_name)s", "${process_num}:${program_name}"),
        ("100%", "100%"),
    ],
)
def test_expansion(raw: str, value: str) -> None:
    expanded = _expanded(MappedText.identity(raw, 10))
    assert expanded.text == value
    # the last character maps to the end of what it came from: insertions go after it
    assert expanded.parent_offset_after(len(value)) == 10 + len(raw)
