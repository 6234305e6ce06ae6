"""CF201: broker_connection_retry_on_startup, mirroring the project's broker_connection_retry."""

from __future__ import annotations

from pathlib import Path

from repo_helpers import check_noop, check_transformed
from settings_apps import APP, module_app

from celeryfix.rules import rule_by_id
from celeryfix.rules.cf201_broker_connection_retry_on_startup import RULE, WANTED

LINE = "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP"


def test_rule_is_registered_and_documented() -> None:
    assert rule_by_id("cf201") is RULE
    for heading in ("## Why", "## What it changes", "## What it leaves alone"):
        assert heading in RULE.docs


def test_names_match_celery() -> None:
    from celery.app.defaults import _TO_OLD_KEY, DEFAULTS

    assert DEFAULTS[WANTED.name] is None  # unset by default: the warning's cause
    assert DEFAULTS["broker_connection_retry"] is True  # what `value` defaults to
    assert _TO_OLD_KEY[WANTED.name] == WANTED.old_name
    assert WANTED.mirrors == "broker_connection_retry"
    assert _TO_OLD_KEY[WANTED.mirrors] == WANTED.mirrors_old_name
    assert WANTED.value == "True"


def test_examples(tmp_path: Path) -> None:
    for example in RULE.examples:
        check_transformed(
            tmp_path,
            {"proj/__init__.py": "", "proj/celery.py": APP, example.path: example.before},
            {example.path: example.after},
            select=["CF201"],
        )


def test_default_retry_gives_true(tmp_path: Path) -> None:
    settings = 'CELERY_BROKER_URL = "redis://"\n'
    check_transformed(
        tmp_path,
        {"proj/celery.py": APP, "proj/settings.py": settings},
        {"proj/settings.py": settings + f"{LINE} = True\n"},
        select=["CF201"],
    )


def test_env_driven_retry_is_referenced(tmp_path: Path) -> None:
    settings = (
        "import environ\nenv = environ.Env()\n"
        'CELERY_BROKER_CONNECTION_RETRY = env.bool("CELERY_BROKER_CONNECTION_RETRY", True)\n'
    )
    check_transformed(
        tmp_path,
        {"proj/celery.py": APP, "proj/settings.py": settings},
        {"proj/settings.py": settings + f"{LINE} = CELERY_BROKER_CONNECTION_RETRY\n"},
        select=["CF201"],
    )


def test_env_driven_value_already_present_over_several_lines(tmp_path: Path) -> None:
    settings = (
        "import environ\nenv = environ.Env()\n"
        f"{LINE} = env.bool(\n"
        f'    "{LINE}",\n'
        "    default=True,\n"
        ")\n"
    )
    check_noop(tmp_path, {"proj/celery.py": APP, "proj/settings.py": settings}, select=["CF201"])


def test_plain_config_module_with_retry_false(tmp_path: Path) -> None:
    app = module_app('app.config_from_object("proj.celeryconfig")\n')
    config = 'broker_url = "redis://"\nbroker_connection_retry = False\n'
    check_transformed(
        tmp_path,
        {"proj/celery.py": app, "proj/celeryconfig.py": config},
        {"proj/celeryconfig.py": config + "broker_connection_retry_on_startup = False\n"},
        select=["CF201"],
    )


def test_dict_style_conf_update_passes_the_engine_verify_step(tmp_path: Path) -> None:
    before = "from celery import Celery\n\napp = Celery('proj')\napp.conf.update({\n    'broker_url': 'redis://',\n})\n"
    after = before.replace(
        "'redis://',\n",
        "'redis://',\n    'broker_connection_retry_on_startup': True,\n    'worker_hijack_root_logger': False,\n    'worker_log_color': False,\n",
    )
    check_transformed(tmp_path, {"proj/celery.py": before}, {"proj/celery.py": after})
