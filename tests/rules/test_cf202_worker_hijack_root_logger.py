"""CF202: worker_hijack_root_logger = False where the Celery app reads it."""

from __future__ import annotations

from pathlib import Path

from repo_helpers import check_noop, check_transformed
from settings_apps import APP, module_app

from celeryfix.rules import rule_by_id
from celeryfix.rules.cf202_worker_hijack_root_logger import RULE, WANTED


def test_rule_is_registered_and_documented() -> None:
    assert rule_by_id("CF202") is RULE
    for heading in ("## Why", "## What it changes", "## What it leaves alone"):
        assert heading in RULE.docs


def test_names_match_celery() -> None:
    from celery.app.defaults import _TO_OLD_KEY, DEFAULTS

    assert DEFAULTS[WANTED.name] is True  # the default this rule turns off
    assert _TO_OLD_KEY[WANTED.name] == WANTED.old_name == "CELERYD_HIJACK_ROOT_LOGGER"
    assert WANTED.value == "False" and WANTED.mirrors is None


def test_examples(tmp_path: Path) -> None:
    for example in RULE.examples:
        check_transformed(
            tmp_path,
            {"proj/__init__.py": "", "proj/celery.py": APP, example.path: example.before},
            {example.path: example.after},
            select=["CF202"],
        )


def test_logging_dict_key_is_not_the_setting(tmp_path: Path) -> None:
    settings = (
        'CELERY_BROKER_URL = "redis://"\n'
        "\n"
        "LOGGING = {\n"
        '    "version": 1,\n'
        '    "worker_hijack_root_logger": False,\n'
        "}\n"
    )
    after = settings.replace(
        '"redis://"\n', '"redis://"\nCELERY_WORKER_HIJACK_ROOT_LOGGER = False\n', 1
    )
    check_transformed(
        tmp_path,
        {"proj/celery.py": APP, "proj/settings.py": settings},
        {"proj/settings.py": after},
        select=["CF202"],
    )


def test_present_inside_an_if_block(tmp_path: Path) -> None:
    settings = (
        "import os\nif os.environ.get('JSON_LOGS'):\n    CELERY_WORKER_HIJACK_ROOT_LOGGER = False\n"
    )
    check_noop(tmp_path, {"proj/celery.py": APP, "proj/settings.py": settings}, select=["CF202"])


def test_conf_update_keyword(tmp_path: Path) -> None:
    app = module_app('app.conf.update(broker_url="redis://")\n')
    check_transformed(
        tmp_path,
        {"proj/celery.py": app},
        {
            "proj/celery.py": app.replace(
                '"redis://")', '"redis://", worker_hijack_root_logger=False)'
            )
        },
        select=["CF202"],
    )


def test_conf_update_comment_stays_with_its_argument(tmp_path: Path) -> None:
    app = module_app('app.conf.update(\n    broker_url="redis://"  # the broker\n)\n')
    check_transformed(
        tmp_path,
        {"proj/celery.py": app},
        {
            "proj/celery.py": app.replace(
                '"redis://"  # the broker\n',
                '"redis://",  # the broker\n    worker_hijack_root_logger=False\n',
            )
        },
        select=["CF202"],
    )
