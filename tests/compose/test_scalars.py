"""Tests for celeryfix.compose.scalars: YAML scalar values mapped back to their source.

The oracle is ruamel.yaml itself: text spliced into the source at the mapped offset must come
back from ruamel.yaml as exactly that text inside the value, with every other node unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import StreamMark
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from celeryfix.compose.scalars import (
    UnmappableScalar,
    can_insert_plain_text,
    scalar_value,
    scalar_value_map,
)

FLAGS = " --uid=nobody --gid=nogroup"


# --- helpers -------------------------------------------------------------------------------


def compose(source: str) -> list[Node]:
    return list(YAML().compose_all(source))


def walk(node: Node | None) -> Iterator[Node]:
    """Every node once, in document order (aliases are the same node objects)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, MappingNode):
            stack.extend(child for pair in reversed(current.value) for child in reversed(pair))
        elif isinstance(current, SequenceNode):
            stack.extend(reversed(current.value))


def scalars(source: str) -> list[ScalarNode]:
    return [n for root in compose(source) for n in walk(root) if isinstance(n, ScalarNode)]


def value_of(source: str, key: str) -> ScalarNode:
    """The scalar value of the first mapping entry named `key`."""
    for root in compose(source):
        for node in walk(root):
            if isinstance(node, MappingNode):
                for k, v in node.value:
                    if k.value == key and isinstance(v, ScalarNode):
                        return v
    raise AssertionError(f"no scalar value for {key!r}")


def shifted(mark: StreamMark, source: str, at: int, length: int) -> tuple[int, int, int]:
    """Where a mark of `source` is after `length` characters are inserted at `at`."""
    if mark.index < at:
        return mark.index, mark.line, mark.column
    same_line = not any(ch in source[at : mark.index] for ch in "\r\n")
    return mark.index + length, mark.line, mark.column + (length if same_line else 0)


def marks(node: Node) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    return (
        (node.start_mark.index, node.start_mark.line, node.start_mark.column),
        (node.end_mark.index, node.end_mark.line, node.end_mark.column),
    )


def check_insertion(source: str, node: ScalarNode, index: int, text: str) -> str:
    """Splice `text` after value[index - 1] and check what ruamel.yaml reads back."""
    at = scalar_value_map(source, node).parent_offset_after(index)
    after = source[:at] + text + source[at:]
    old_nodes = [n for root in compose(source) for n in walk(root)]
    new_nodes = [n for root in compose(after) for n in walk(root)]
    assert len(old_nodes) == len(new_nodes)
    for old, new in zip(old_nodes, new_nodes, strict=True):
        assert type(old) is type(new)
        assert (old.anchor, getattr(old, "flow_style", None)) == (
            new.anchor,
            getattr(new, "flow_style", None),
        )
        expected_marks = (
            shifted(old.start_mark, source, at, len(text)),
            shifted(old.end_mark, source, at, len(text)),
        )
        assert marks(new) == expected_marks
        if isinstance(old, ScalarNode):
            assert isinstance(new, ScalarNode)
            assert old.style == new.style
            is_target = marks(old) == marks(node)
            value = scalar_value(old)
            expected = value[:index] + text + value[index:] if is_target else value
            assert scalar_value(new) == expected
            if not is_target:  # a plain target's tag is resolved from its new value
                assert old.tag == new.tag
        else:
            assert old.tag == new.tag
            assert len(old.value) == len(new.value)
    return after


def check_map_shape(source: str, node: ScalarNode) -> None:
    """Each span is the character itself, an escape, a quote pair or a line break; in order."""
    mapped = scalar_value_map(source, node)
    assert mapped.text == scalar_value(node)
    previous_end = node.start_mark.index
    for char, (start, end) in zip(mapped.text, mapped.spans, strict=True):
        raw = source[start:end]
        assert start >= previous_end and end > start
        previous_end = end
        if raw in ("\n", "\r\n", "\r"):
            assert char in " \n"
        elif node.style == '"' and raw.startswith("\\"):
            assert YAML(typ="safe", pure=True).load(f'"{raw}"') == char  # the escape alone
        elif node.style == "'" and raw == "''":
            assert char == "'"
        else:
            assert raw == char
    assert previous_end <= node.end_mark.index


# --- byte-exact examples -----------------------------------------------------------------

EXAMPLES = [
    pytest.param(
        "services:\n  worker:\n    command: >\n      /bin/bash -c '\n"
        "        celery -A app worker -B -l ${LEVEL:-INFO}'\n",
        "worker",
        "services:\n  worker:\n    command: >\n      /bin/bash -c '\n"
        "        celery -A app worker --uid=nobody --gid=nogroup -B -l ${LEVEL:-INFO}'\n",
        id="folded-bash-c",
    ),
    pytest.param(
        'services:\n  worker:\n    command: sh -c "python manage.py migrate &&\n'
        '      celery -A proj worker -l info"\n',
        "info",
        'services:\n  worker:\n    command: sh -c "python manage.py migrate &&\n'
        '      celery -A proj worker -l info --uid=nobody --gid=nogroup"\n',
        id="plain-multiline",
    ),
    pytest.param(
        'services:\n  worker:\n    command: "celery -A proj worker -l info"\n',
        "worker",
        'services:\n  worker:\n    command: "celery -A proj worker --uid=nobody --gid=nogroup -l info"\n',
        id="double-quoted",
    ),
    pytest.param(
        "services:\n  beat:\n    command: 'celery -A proj beat'  # scheduler\n",
        "beat",
        "services:\n  beat:\n    command: 'celery -A proj beat --uid=nobody --gid=nogroup'  # scheduler\n",
        id="single-quoted-comment",
    ),
    pytest.param(
        "services:\n  worker:\n    command: |\n      celery -A proj worker\n",
        "worker",
        "services:\n  worker:\n    command: |\n      celery -A proj worker --uid=nobody --gid=nogroup\n",
        id="literal",
    ),
    pytest.param(
        "services:\r\n  worker:\r\n    command: >-\r\n      celery -A proj\r\n      worker\r\n\r\n"
        "    restart: always\r\n",
        "worker",
        "services:\r\n  worker:\r\n    command: >-\r\n      celery -A proj\r\n"
        "      worker --uid=nobody --gid=nogroup\r\n\r\n    restart: always\r\n",
        id="folded-crlf",
    ),
    pytest.param(
        'services:\r\n  worker:\r\n    command: "celery \\\r\n      -A proj worker\\\r\n'
        '      \\ -l info"\r\n',
        "worker",
        'services:\r\n  worker:\r\n    command: "celery \\\r\n      -A proj worker'
        ' --uid=nobody --gid=nogroup\\\r\n      \\ -l info"\r\n',
        id="double-escaped-breaks-crlf",
    ),
    pytest.param(
        "services:\n  worker:\n    command: 'celery -A proj\n\n      worker  \n      -l info'\n",
        "worker",
        "services:\n  worker:\n    command: 'celery -A proj\n\n      worker --uid=nobody"
        " --gid=nogroup  \n      -l info'\n",
        id="single-folded-blank-line",
    ),
    pytest.param(
        "x-common: &cmd\n  command: |2-\n      celery -A pröj\n    worker\t# not a comment\n",
        "worker",
        "x-common: &cmd\n  command: |2-\n      celery -A pröj\n    worker --uid=nobody"
        " --gid=nogroup\t# not a comment\n",
        id="literal-indicator-tab-multibyte",
    ),
    pytest.param(
        'services:\n  worker:\n    command: !!str &c "\\u00e9\\x41 celery\\tworker"\n',
        "worker",
        'services:\n  worker:\n    command: !!str &c "\\u00e9\\x41 celery\\tworker'
        ' --uid=nobody --gid=nogroup"\n',
        id="double-escapes-properties",
    ),
    pytest.param(
        "services:\n  worker:\n    command:\n      - sh\n      - -c\n      - |\n"
        "        python manage.py migrate &&\n        celery -A proj worker -l info\n",
        "worker",
        "services:\n  worker:\n    command:\n      - sh\n      - -c\n      - |\n"
        "        python manage.py migrate &&\n"
        "        celery -A proj worker --uid=nobody --gid=nogroup -l info\n",
        id="list-literal-script",
    ),
    pytest.param(
        'services:\n  beat:\n    command: ["sh", "-c", "celery -A proj beat -l info \\\n'
        '      --schedule=/tmp/s"]\n',
        "beat",
        'services:\n  beat:\n    command: ["sh", "-c", "celery -A proj beat --uid=nobody'
        ' --gid=nogroup -l info \\\n      --schedule=/tmp/s"]\n',
        id="flow-double-escaped-break",
    ),
    pytest.param(
        "services:\n  worker:\n    command: ['celery', \"worker\", -l, info]\n",
        "worker",
        "services:\n  worker:\n    command: ['celery', \"worker --uid=nobody --gid=nogroup\", -l,"
        " info]\n",
        id="flow-item",
    ),
]


@pytest.mark.parametrize(("source", "after", "expected"), EXAMPLES)
def test_example(source: str, after: str, expected: str) -> None:
    command = source.index("command:")
    node = next(
        n for n in scalars(source) if n.start_mark.index > command and after in scalar_value(n)
    )
    index = scalar_value(node).index(after) + len(after)
    assert can_insert_plain_text(node, FLAGS, index)
    assert can_insert_plain_text(node, FLAGS)
    assert check_insertion(source, node, index, FLAGS) == expected


def test_folded_value_has_no_fold_markers() -> None:
    source = "a: >\n  one\n  two\n\n  three\n"
    node = value_of(source, "a")
    assert "\a" in node.value  # ruamel.yaml's round-trip marker...
    mapped = scalar_value_map(source, node)
    assert mapped.text == "one two\nthree\n"  # ...is not part of the value
    assert [source[s:e] for s, e in mapped.spans][3] == "\n"  # the fold maps to its line break


def test_kept_and_clipped_breaks_map_to_their_line_breaks() -> None:
    source = "a: |+\r\n  x\r\n\r\n\r\nb: |\r\n  y\r\n"
    a = scalar_value_map(source, value_of(source, "a"))
    assert a.text == "x\n\n\n"
    assert [source[s:e] for s, e in a.spans] == ["x", "\r\n", "\r\n", "\r\n"]
    b = scalar_value_map(source, value_of(source, "b"))
    assert [source[s:e] for s, e in b.spans] == ["y", "\r\n"]


def test_block_scalar_at_end_of_file_without_line_break() -> None:
    source = "a: >\n  x\n  y"
    mapped = scalar_value_map(source, value_of(source, "a"))
    assert mapped.text == "x y"
    assert mapped.parent_offset_after(3) == len(source)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("a: 'x\x85y'\n", id="NEL"),
        pytest.param("a: 'x\u2028y'\n", id="LS"),
        pytest.param("a:\n", id="empty-plain"),
    ],
)
def test_unmappable(source: str) -> None:
    with pytest.raises(UnmappableScalar):
        scalar_value_map(source, value_of(source, "a"))


def test_wrong_source_is_refused_not_mismapped() -> None:
    source = "a: 'it''s'\n"
    node = value_of(source, "a")
    with pytest.raises(UnmappableScalar):
        scalar_value_map("\ufeff" + source, node)  # marks of a BOM-less text, text with a BOM


@pytest.mark.parametrize(
    ("source", "text", "index", "fits"),
    [
        ("a: celery worker\n", " -Q x#y", 6, True),
        ("a: celery worker\n", " #x", 6, False),
        ("a: celery worker\n", " x: y", 6, False),
        ("a: celery worker\n", " x:", 13, False),
        ("a: celery worker\n", "x:", 3, True),
        ("a: celery worker\n", " [x]", 13, False),
        ("a: celery worker\n", "\tx", 13, False),
        ("a: celery worker\n", " x ", 13, False),
        ("a: celery worker\n", " x ", 3, True),
        ("a: celery a#b\n", "x ", 8, False),
        ("a: -x\n", " y", 1, False),
        ("a: x:y\n", " y", 2, False),
        ("a: x:y\n", " y", None, False),
        ("a: x y\n", " z", 2, False),  # after white space
        ("a: 'celery'\n", " it's", 6, False),
        ("a: 'celery'\n", ' "x" #y', 6, True),
        ("a: 'celery'\n", " x ", 6, False),
        ('a: "celery"\n', ' "x"', 6, False),
        ('a: "celery"\n', " a\\b", 6, False),
        ('a: "celery"\n', " 'x' #y: z", 6, True),
        ("a: |\n  celery\n", " 'x' \"y\" #z: [\\] ", 6, True),
        ("a: >\n  celery\n", " x\ny", 6, False),
        ("a: >\n  celery\n", " x\ufeff", 6, False),
        ("a: >\n  celery\n", " x\x07", 6, False),
    ],
)
def test_can_insert_plain_text(source: str, text: str, index: int | None, fits: bool) -> None:
    node = value_of(source, "a")
    assert can_insert_plain_text(node, text, index) is fits
    if fits and index is not None:
        check_insertion(source, node, index, text)


# --- generated documents -----------------------------------------------------------------

START = "abcxyzABC019/._$é"
INNER = START + "-=:#'\"{}!&*?%@`|>,[]~日"
FLOW_WORD = st.builds(
    str.__add__, st.sampled_from("abcxyz019/._$"), st.text("abcxyz019/._$=-", max_size=5)
)


@st.composite
def plain_word(draw: st.DrawFn, first: bool) -> str:
    head = draw(st.sampled_from(START if first else START + "-!&*%@`'\"|>{[,"))
    tail = draw(st.text(INNER, max_size=6))
    word = head + tail
    return word.rstrip(":") or "w"


@st.composite
def line_fold(draw: st.DrawFn, nl: str, indent: int, blanks: str) -> str:
    """Trailing white space, a line break, empty lines, the next line's indentation."""
    trailing = draw(st.text(blanks, max_size=2))
    empty = draw(st.lists(st.text(blanks, max_size=3), max_size=2))
    spaces = " " * (indent + draw(st.integers(0, 3)))
    if blanks != " " and draw(st.booleans()):
        spaces += "\t"
    return trailing + nl + "".join(e + nl for e in empty) + spaces


@st.composite
def plain_scalar(draw: st.DrawFn, indent: int, nl: str) -> str:
    parts = [draw(plain_word(first=True))]
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.integers(0, 2)) == 0:
            parts.append(draw(line_fold(nl, indent, " ")))
        else:
            parts.append(" " * draw(st.integers(1, 2)))
        parts.append(draw(plain_word(first=False)))
    return "".join(parts)


ESCAPES = st.one_of(
    st.sampled_from(["\\" + c for c in '0abt\tnvfre "/\\N_LP']),
    st.integers(0, 0xFF).map(lambda n: f"\\x{n:02x}"),
    st.integers(0x20, 0xD7FF).map(lambda n: f"\\u{n:04X}"),
    st.integers(0x10000, 0x10FFFF).map(lambda n: f"\\U{n:08x}"),
)


@st.composite
def quoted_scalar(draw: st.DrawFn, indent: int, nl: str, quote: str) -> str:
    word_chars = "abcxyz019-=:#,[]{}é日&*!" + ("'" if quote == '"' else '"\\')
    piece = st.text(word_chars, min_size=1, max_size=5)
    piece = st.one_of(piece, ESCAPES if quote == '"' else st.just("''"))
    separator: st.SearchStrategy[str] = st.text(" \t", min_size=1, max_size=2)
    if nl:  # else a single line, for a flow collection
        separator = st.one_of(separator, line_fold(nl, indent, " \t"))
    if nl and quote == '"':
        separator = st.one_of(separator, line_fold(nl, indent, " \t").map(lambda f: "\\" + f))
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        parts.append(draw(st.one_of(piece, separator)))
    return quote + "".join(parts) + quote


@st.composite
def block_scalar(draw: st.DrawFn, parent: int, nl: str) -> str:
    explicit = draw(st.booleans())
    step = draw(st.integers(1, 3))
    indent = parent + step
    indicators = [draw(st.sampled_from(["", "-", "+"]))] + ([str(step)] if explicit else [])
    header = draw(st.sampled_from("|>")) + "".join(draw(st.permutations(indicators)))
    header += draw(st.sampled_from(["", " ", "  # a comment"]))
    lines: list[str] = []
    text_seen = False
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["text", "empty", "text", "spaces", "text"]))
        if kind == "text":
            deeper = draw(st.integers(0, 2)) if explicit or text_seen else 0
            lead = " " * deeper + draw(
                st.sampled_from(["", "", "\t"]) if deeper or text_seen else st.just("")
            )
            body = draw(st.text("abc xyz019-#:'\"\\é日\t", min_size=1, max_size=12))
            lines.append(" " * indent + lead + (body if lead else body.lstrip(" \t") or "x"))
            text_seen = True
        elif kind == "empty":
            lines.append("")
        elif explicit or text_seen:
            lines.append(" " * draw(st.integers(1, indent + 2)))
        else:  # ruamel.yaml refuses leading blank lines less indented than the first text line
            lines.append(draw(st.sampled_from(["", " " * indent])))
    return header + "".join(nl + line for line in lines)


@st.composite
def flow_scalar(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["plain", "single", "double"]))
    if kind == "plain":
        return " ".join(draw(st.lists(FLOW_WORD, min_size=1, max_size=3)))
    return draw(quoted_scalar(0, "", "'" if kind == "single" else '"'))


@st.composite
def node_properties(draw: st.DrawFn, names: list[int]) -> str:
    props = []
    if draw(st.integers(0, 4)) == 0:
        names.append(len(names))
        props.append(f"&a{len(names)}")
    if draw(st.integers(0, 4)) == 0:
        props.append(draw(st.sampled_from(["!!str", "!custom", "!<tag:yaml.org,2002:str>"])))
    return " ".join(props)


@st.composite
def block_value(
    draw: st.DrawFn, parent: int, nl: str, names: list[int], kinds: tuple[str, ...]
) -> str:
    """A scalar written after `key: ` or `- ` whose parent block is at column `parent`."""
    kind = draw(st.sampled_from(kinds))
    if kind == "block":
        text = draw(block_scalar(parent, nl))
    elif kind == "plain":
        text = draw(plain_scalar(parent + 1, nl))
    else:
        text = draw(quoted_scalar(parent + 1, nl, "'" if kind == "single" else '"'))
    if kind != "block" and draw(st.integers(0, 3)) == 0:
        text += "  # trailing comment"
    props = draw(node_properties(names))
    if not props:
        return text
    if kind != "block" and draw(st.integers(0, 3)) == 0:
        comment = draw(st.sampled_from(["", "  # between"]))
        return props + comment + nl + " " * (parent + 1) + text
    return props + " " + text


@st.composite
def documents(
    draw: st.DrawFn, kinds: tuple[str, ...] = ("block", "double", "single", "plain")
) -> str:
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    step = draw(st.integers(1, 4))
    names: list[int] = []
    lines = ["services:"]
    for service in range(draw(st.integers(1, 2))):
        lines.append(" " * step + f"svc{service}:")
        col = step * 2
        for entry in range(draw(st.integers(1, 3))):
            shape = draw(st.sampled_from(["value", "value", "list", "flow", "flow-map"]))
            key = " " * col + f"k{entry}:"
            if shape == "value":
                lines.append(key + " " + draw(block_value(col, nl, names, kinds)))
            elif shape == "list":
                lines.append(key)
                dash = col + draw(st.integers(0, 2))
                for _ in range(draw(st.integers(1, 2))):
                    lines.append(" " * dash + "- " + draw(block_value(dash, nl, names, kinds)))
            elif shape == "flow":
                items = draw(st.lists(flow_scalar(), min_size=1, max_size=3))
                lines.append(key + " [" + ", ".join(items) + "]")
            else:
                pairs = draw(st.lists(st.tuples(flow_scalar(), flow_scalar()), max_size=2))
                lines.append(key + " {" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}")
    lines.append("x-last: end")
    if draw(st.booleans()) and names:
        lines.append(f"x-alias: *a{names[0] + 1}")
    text = nl.join(lines) + nl
    if draw(st.booleans()):
        text += "---" + nl + "second: " + draw(block_value(0, nl, names, kinds)) + nl
    if draw(st.integers(0, 3)) == 0:
        text = text[: -len(nl)]
    return text


INSERTS = st.one_of(
    st.sampled_from([FLAGS, " --uid=nobody", "-x", " -l info", "x:y", " a  b"]),
    st.text("abcXYZ019-=/._: ", min_size=1, max_size=12),
)


SLOW = [HealthCheck.too_slow, HealthCheck.filter_too_much]


@settings(max_examples=250, deadline=None, suppress_health_check=SLOW)
@given(source=documents(), data=st.data())
def test_generated_documents(source: str, data: st.DataObject) -> None:
    check_generated(source, data)


@settings(max_examples=120, deadline=None, suppress_health_check=SLOW)
@given(source=documents(kinds=("block",)), data=st.data())
def test_generated_block_scalars(source: str, data: st.DataObject) -> None:
    check_generated(source, data)


def check_generated(source: str, data: st.DataObject) -> None:
    """Every scalar maps; text inserted into one of them reads back as inserted."""
    note(f"source: {source!r}")
    nodes = [n for n in scalars(source) if scalar_value(n) or n.style is not None]
    for node in nodes:
        check_map_shape(source, node)
    # Spread the draws over the styles, away from the generator's own keys.
    values = [
        n
        for n in nodes
        if not re.fullmatch(r"services|svc\d|k\d|x-\w+|second|end", n.value)
        and not scalar_value(n).isspace()
        and scalar_value(n)
    ]
    styles = sorted({str(n.style) for n in values})
    assume(styles)
    style = data.draw(st.sampled_from(styles))
    node = data.draw(st.sampled_from([n for n in values if str(n.style) == style]))
    value = scalar_value(node)
    places = [k for k in range(1, len(value) + 1) if not value[k - 1].isspace()]
    index = data.draw(st.sampled_from(places))
    text = data.draw(INSERTS)
    note(f"insert {text!r} after {value[:index]!r} of {value!r}")
    fits = can_insert_plain_text(node, text, index)
    event(f"style {node.style or 'plain'}: {'inserted' if fits else 'refused'}")
    if fits:
        check_insertion(source, node, index, text)
    # The usual flags fit every style, except at a plain scalar's `:` or leading indicator.
    awkward = node.style is None and (value[index - 1] == ":" or (index == 1 and value[0] in "-?:"))
    assert can_insert_plain_text(node, FLAGS, index) is not awkward
    if not awkward:
        check_insertion(source, node, index, FLAGS)
