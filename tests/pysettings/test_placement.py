"""Placement: the exact offset and text of an inserted line, in the module's own style."""

from __future__ import annotations

import ast

import libcst
import pytest

from celeryfix.edits import apply_edits
from celeryfix.pysettings.apps import ConfAttribute, ConfItem, ConfUpdate
from celeryfix.pysettings.layout import ModuleLayout
from celeryfix.pysettings.naming import Naming
from celeryfix.pysettings.placement import (
    ConfEntry,
    conf_attribute_edit,
    conf_update_edits,
    family_spot,
)
from celeryfix.pysettings.sources import PythonSource

CELERY = Naming.for_source("CELERY", django=True, old=False)


def insert(text: str, name: str = "CELERY_WORKER_LOG_COLOR", value: str = "False") -> str:
    source = PythonSource("s.py", text)
    spot = family_spot(source, CELERY)
    offset, line = ModuleLayout(source).line(spot, source, name, value)
    return text[:offset] + line + text[offset:]


CASES = [
    (
        "after-block",
        "CELERY_A = 1\nX = 2\n",
        "CELERY_A = 1\nCELERY_WORKER_LOG_COLOR = False\nX = 2\n",
    ),
    (
        "last-of-several",
        "CELERY_A = 1\nX = 2\nCELERY_B = 3\n",
        "CELERY_A = 1\nX = 2\nCELERY_B = 3\nCELERY_WORKER_LOG_COLOR = False\n",
    ),
    (
        "semicolons",
        "CELERY_A = 1; X = 2\nY = 3\n",
        "CELERY_A = 1; X = 2\nCELERY_WORKER_LOG_COLOR = False\nY = 3\n",
    ),
    (
        "backslash",
        "CELERY_A = \\\n    1\nY = 3\n",
        "CELERY_A = \\\n    1\nCELERY_WORKER_LOG_COLOR = False\nY = 3\n",
    ),
    (
        "nested-not-an-anchor",
        "CELERY_A = 1\nif X:\n    CELERY_B = 2\n",
        "CELERY_A = 1\nCELERY_WORKER_LOG_COLOR = False\nif X:\n    CELERY_B = 2\n",
    ),
    (
        "majority-spacing-at-end",
        "A=1\nB=2\nC = 3\n",
        "A=1\nB=2\nC = 3\nCELERY_WORKER_LOG_COLOR=False\n",
    ),
    ("cr-only", "CELERY_A = 1\rX = 2\r", "CELERY_A = 1\rCELERY_WORKER_LOG_COLOR = False\rX = 2\r"),
    (
        "anchor-line-break-wins",
        "CELERY_A = 1\nX = 2\r\n",
        "CELERY_A = 1\nCELERY_WORKER_LOG_COLOR = False\nX = 2\r\n",
    ),
    ("only-comments", "# settings\n", "# settings\nCELERY_WORKER_LOG_COLOR = False\n"),
    ("no-final-break-crlf", "A = 1\r\nB = 2", "A = 1\r\nB = 2\r\nCELERY_WORKER_LOG_COLOR = False"),
    (
        "unicode-before",
        "NAME = 'é€'; CELERY_A = 1\n",
        "NAME = 'é€'; CELERY_A = 1\nCELERY_WORKER_LOG_COLOR = False\n",
    ),
]


@pytest.mark.parametrize(("before", "after"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_settings_line(before: str, after: str) -> None:
    assert insert(before) == after


def test_without_libcst_the_text_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(text: str) -> None:
        raise libcst.ParserSyntaxError("new syntax", lines=[text], raw_line=1, raw_column=0)

    monkeypatch.setattr(libcst, "parse_module", refuse)
    assert (
        insert("CELERY_A: int=1\r\nX = 2\r\n")
        == "CELERY_A: int=1\r\nCELERY_WORKER_LOG_COLOR=False\r\nX = 2\r\n"
    )


def conf_update(text: str) -> tuple[PythonSource, ConfUpdate]:
    source = PythonSource("c.py", text)
    call = next(n for n in ast.walk(source.tree) if isinstance(n, ast.Call))
    literal = call.args[0] if call.args and isinstance(call.args[0], ast.Dict) else None
    return source, ConfUpdate("c.py", call, (), False, literal)


ENTRIES = [ConfEntry("worker_log_color", "False", "CF203"), ConfEntry("a", "1", "CF202")]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("u(x = 1)\n", "u(x = 1, worker_log_color = False, a = 1)\n"),
        ('u({"x": 1})\n', 'u({"x": 1, "worker_log_color": False, "a": 1})\n'),
        ("u({'x' :1})\n", "u({'x' :1, 'worker_log_color' :False, 'a' :1})\n"),
        ("u({})\n", 'u({"worker_log_color": False, "a": 1})\n'),
        ("u(\n  x=1,  # c\n  )\n", "u(\n  x=1,  # c\n  worker_log_color=False,\n  a=1,\n  )\n"),
        # No trailing comma, a comment after the last argument: the comment stays with it.
        ("u(\n  x=1  # c\n)\n", "u(\n  x=1,  # c\n  worker_log_color=False,\n  a=1\n)\n"),
        (
            "u(\r\n  x=f(1)\t# c\r\n  # more\r\n  )\r\n",
            "u(\r\n  x=f(1),\t# c\r\n  worker_log_color=False,\r\n  a=1\r\n  # more\r\n  )\r\n",
        ),
        (
            'u({\n    "x": 1  # c\n})\n',
            'u({\n    "x": 1,  # c\n    "worker_log_color": False,\n    "a": 1\n})\n',
        ),
        ("u(\n  x=1\n  # c\n)\n", "u(\n  x=1,\n  worker_log_color=False,\n  a=1\n  # c\n)\n"),
    ],
)
def test_conf_update(before: str, after: str) -> None:
    source, update = conf_update(before)
    assert apply_edits(before, conf_update_edits(source, update, ENTRIES)) == after


def test_conf_attribute_at_the_end_without_final_line_break() -> None:
    text = "app.conf.broker_url='r'"
    source = PythonSource("c.py", text)
    statement = source.tree.body[0]
    assert isinstance(statement, ast.Assign)
    anchor = ConfAttribute("c.py", statement, ConfItem("broker_url", "'r'", 1), "app.conf")
    edit = conf_attribute_edit(source, anchor, ENTRIES[0])
    assert apply_edits(text, [edit]) == "app.conf.broker_url='r'\napp.conf.worker_log_color=False"


def test_comment_kept_with_its_argument_is_one_edit_set_per_rule() -> None:
    source, update = conf_update("u(\n  x=1  # c\n)\n")
    edits = conf_update_edits(source, update, ENTRIES)
    assert [(e.text, e.rule) for e in edits] == [
        (",", "CF203+CF202"),
        ("\n  worker_log_color=False", "CF203"),
        (",\n  a=1", "CF202"),
    ]
