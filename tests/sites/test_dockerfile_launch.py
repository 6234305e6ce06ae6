"""A Dockerfile's default command: the instructions in force, and tokens mapped to the file."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from celeryfix.dockerfile import instructions
from celeryfix.sites.dockerfile_launch import (
    escape_character,
    image_context,
    image_launch,
    instruction_layer,
    launch_argv,
)


def argv_of(text: str) -> list[str]:
    return [token.value for token in launch_argv(text, image_launch(text)).tokens]


def test_exec_and_shell_forms() -> None:
    assert argv_of('FROM a\nCMD ["celery", "worker"]\n') == ["celery", "worker"]
    assert argv_of("FROM a\nCMD celery worker\n") == ["/bin/sh", "-c", " celery worker"]
    assert argv_of('FROM a\nENTRYPOINT ["tini", "--"]\nCMD ["x"]\n') == ["tini", "--", "x"]
    assert argv_of('FROM a\nENTRYPOINT ["e"]\nCMD y\n') == ["e", "/bin/sh", "-c", " y"]


def test_invalid_json_is_shell_form() -> None:
    assert argv_of("FROM a\nCMD [celery, worker]\n") == ["/bin/sh", "-c", " [celery, worker]"]
    assert argv_of('FROM a\nCMD ["x", 1]\n') == ["/bin/sh", "-c", ' ["x", 1]']


def test_instructions_in_force() -> None:
    later = 'FROM a\nCMD ["one"]\nCMD ["two"]\n'
    assert argv_of(later) == ["two"]
    inherited = 'FROM a AS base\nCMD ["x"]\nFROM base\n'
    assert argv_of(inherited) == ["x"]
    reset = 'FROM a AS base\nCMD ["x"]\nFROM base\nENTRYPOINT ["e"]\n'
    assert argv_of(reset) == ["e"]
    same_stage = 'FROM a\nCMD ["x"]\nENTRYPOINT ["e"]\n'
    assert argv_of(same_stage) == ["e", "x"]
    shell_entrypoint = 'FROM a\nENTRYPOINT exec e\nCMD ["x"]\n'
    assert argv_of(shell_entrypoint) == ["/bin/sh", "-c", " exec e"]
    other_stage = 'FROM a AS test\nCMD ["t"]\nFROM b\n'
    assert argv_of(other_stage) == []


def test_layer_joins_continuations_and_drops_comment_lines() -> None:
    text = "FROM a\nCMD celery \\\n  # a comment\n  worker \\\r\n  -l info\n"
    cmd = instructions(text)[-1]
    layer = instruction_layer(text, cmd)
    assert layer.text == " celery   worker   -l info"
    offset = layer.parent_offset_after(len(layer.text))
    assert text[:offset].endswith("-l info")


def test_escape_directive() -> None:
    text = "# escape=`\nFROM a\nCMD celery `\n  worker\n"
    assert escape_character(text) == "`"
    assert argv_of(text) == ["/bin/sh", "-c", " celery   worker"]


def test_exec_items_map_to_their_characters() -> None:
    text = 'FROM a\nCMD ["sh", "-c", "celery \\"w\\u00e9\\" worker"]\n'
    tokens = launch_argv(text, image_launch(text)).tokens
    script = tokens[2]
    assert script.value == 'celery "wé" worker'
    assert script.chars is not None
    start, end = script.chars.spans[-1]
    assert text[start:end] == "r"
    assert text[script.after - 1 : script.after + 1] == '"]'


def test_separators_of_the_array() -> None:
    text = 'FROM a\nCMD [ "a" ,"b",  "c"]\n'
    argv = launch_argv(text, image_launch(text))
    assert list(argv.json_items.values()) == [" ,", " ,", ",  "]
    assert argv_of("FROM a\nCMD []\n") == []


def test_image_context() -> None:
    text = "FROM registry.access.redhat.com/ubi9/python-311\nUSER 1001\n"
    context = image_context("Dockerfile", text, True)
    assert context.non_root_user == "USER 1001 in Dockerfile"
    assert context.image == "registry.access.redhat.com/ubi9/python-311"
    assert context.fileless_scheduler
    assert image_context("Dockerfile", "FROM a\nUSER root\n", False).non_root_user is None


_ITEMS = st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00")))
_SPACES = st.sampled_from(["", " ", "  ", "\t", " \\\n  "])


@given(_ITEMS, _SPACES, _SPACES, st.booleans())
def test_exec_form_agrees_with_json(
    items: list[str], before: str, after: str, ascii_only: bool
) -> None:
    encoded = [json.dumps(item, ensure_ascii=ascii_only) for item in items]
    body = f",{after}".join(encoded)
    text = f"FROM a\nCMD [{before}{body}{before}]\n"
    if "\n" in "".join(items):
        return  # a raw newline in an item would end the instruction
    tokens = launch_argv(text, image_launch(text)).tokens
    assert [t.value for t in tokens] == items
    for token, raw in zip(tokens, encoded, strict=True):
        assert token.after is not None
        assert text[token.after - len(raw) : token.after] == raw
