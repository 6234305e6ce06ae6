"""CF203: worker_log_color = False where the Celery app reads it (through the whole engine)."""

from __future__ import annotations

from pathlib import Path

from repo_helpers import check_noop, check_transformed, reasons, write_repo
from settings_apps import APP, NO_NAMESPACE_APP, module_app

from celeryfix.config import resolve_options
from celeryfix.engine import plan_repository
from celeryfix.rules import rule_by_id
from celeryfix.rules.cf203_worker_log_color import RULE, WANTED


def test_rule_is_registered_and_documented() -> None:
    assert rule_by_id("cf203") is RULE
    assert RULE.reads.value == "python" and RULE.safety.value == "safe"
    for heading in ("## Why", "## What it changes", "## What it leaves alone"):
        assert heading in RULE.docs


def test_names_match_celery() -> None:
    from celery.app.defaults import _TO_OLD_KEY, DEFAULTS

    assert WANTED.name in DEFAULTS
    assert _TO_OLD_KEY[WANTED.name] == WANTED.old_name == "CELERYD_LOG_COLOR"
    assert WANTED.value == "False" and WANTED.mirrors is None


def test_examples(tmp_path: Path) -> None:
    for example in RULE.examples:
        check_transformed(
            tmp_path,
            {"proj/__init__.py": "", "proj/celery.py": APP, example.path: example.before},
            {example.path: example.after},
            select=["CF203"],
        )


def test_no_namespace_uses_the_old_name(tmp_path: Path) -> None:
    settings = 'BROKER_URL = "redis://"\nDEBUG = True\n'
    check_transformed(
        tmp_path,
        {"proj/celery.py": NO_NAMESPACE_APP, "proj/settings.py": settings},
        {"proj/settings.py": 'BROKER_URL = "redis://"\nCELERYD_LOG_COLOR = False\nDEBUG = True\n'},
        select=["CF203"],
    )


def test_crlf_and_bom_are_kept(tmp_path: Path) -> None:
    before = b'\xef\xbb\xbfCELERY_BROKER_URL = "redis://"\r\nDEBUG = True\r\n'
    after = b'\xef\xbb\xbfCELERY_BROKER_URL = "redis://"\r\nCELERY_WORKER_LOG_COLOR = False\r\nDEBUG = True\r\n'
    check_transformed(
        tmp_path,
        {"proj/celery.py": APP, "proj/settings.py": before},
        {"proj/settings.py": after},
        select=["CF203"],
    )


def test_latin_1_declared_module_is_written_in_latin_1(tmp_path: Path) -> None:
    head = "# -*- coding: latin-1 -*-\r\n# R\xe9glages\r\n".encode("latin-1")
    before = head + b'CELERY_BROKER_URL = "redis://"\r\n'
    after = before + b"CELERY_WORKER_LOG_COLOR = False\r\n"
    check_transformed(
        tmp_path,
        {"proj/celery.py": APP, "proj/settings.py": before},
        {"proj/settings.py": after},
        select=["CF203"],
    )


def test_already_present_under_the_old_name(tmp_path: Path) -> None:
    check_noop(
        tmp_path,
        {"proj/celery.py": APP, "proj/settings.py": "CELERYD_LOG_COLOR = True\n"},
        select=["CF203"],
    )


def test_syntax_error_stops_the_repository(tmp_path: Path) -> None:
    write_repo(tmp_path, {"proj/celery.py": APP, "proj/settings.py": "CELERY_X = (\n"})
    result = plan_repository(tmp_path, resolve_options(tmp_path, {"select": ["CF203"]}))
    assert result.changes == []
    assert result.error is not None and "proj/settings.py:1" in result.error


def test_templated_settings_are_skipped(tmp_path: Path) -> None:
    settings = "{% if cookiecutter.use_celery == 'y' %}\nCELERY_BROKER_URL = 'r'\n{% endif %}\n"
    result = check_noop(
        tmp_path, {"proj/celery.py": APP, "proj/settings.py": settings}, select=["CF203"]
    )
    assert "template" in reasons(result)


def test_split_settings_named_in_manage_py_get_it_in_the_shared_base(tmp_path: Path) -> None:
    base = '# Celery\nCELERY_BROKER_URL = "redis://"\nCELERY_TASK_SERIALIZER = "json"\n\nDEBUG = False\n'
    local = "from .base import *  # noqa\n\nCELERY_TASK_EAGER_PROPAGATES = True\n"
    check_transformed(
        tmp_path,
        {
            "manage.py": (
                'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")\n'
            ),
            "config/__init__.py": "",
            "config/celery_app.py": module_app(
                'app.config_from_object("django.conf:settings", namespace="CELERY")\n'
            ),
            "config/settings/__init__.py": "",
            "config/settings/base.py": base,
            "config/settings/local.py": local,
            "config/settings/test.py": "from .base import *  # noqa\nDEBUG = True\n",
        },
        {
            "config/settings/base.py": base.replace(
                '"json"\n', '"json"\nCELERY_WORKER_LOG_COLOR = False\n'
            )
        },
        select=["CF203"],
    )
