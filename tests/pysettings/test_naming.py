"""Naming against Celery itself: the names it reads a setting under, for each kind of source."""

from __future__ import annotations

import pytest
from celery.app.utils import detect_settings

from celeryfix.pysettings.naming import Naming, Style, is_new_style, is_old_style

SETTINGS = [
    ("worker_log_color", "CELERYD_LOG_COLOR"),
    ("worker_hijack_root_logger", "CELERYD_HIJACK_ROOT_LOGGER"),
    ("broker_connection_retry_on_startup", "BROKER_CONNECTION_RETRY_ON_STARTUP"),
    ("broker_connection_retry", "BROKER_CONNECTION_RETRY"),
]
NAMINGS = [
    Naming.for_source("CELERY", django=True, old=False),
    Naming.for_source("TASKS", django=True, old=False),
    Naming.for_source(None, django=True, old=False),
    Naming.for_source("CELERY", django=False, old=False),
    Naming.for_source("celery", django=False, old=False),
    Naming.for_source(None, django=False, old=False),
    Naming.for_source(None, django=False, old=True),
]
SENTINEL = "given"


def celery_reads(naming: Naming, key: str, setting: str) -> bool:
    """Whether Celery reads `setting` from a source holding only `key` (plus a style marker)."""
    source = {key: SENTINEL}
    if naming.style is Style.OLD:
        source["CELERY_RESULT_BACKEND"] = "x"  # the module's other settings: old names
    elif naming.style is Style.NEW:
        source["result_backend"] = "x"  # the module's other settings: new names
    if naming.django:
        source = {k: v for k, v in source.items() if k.isupper()}  # Django keeps upper case only
    prefix = naming.prefix.rstrip("_") or None
    try:
        conf = detect_settings(None, source, prefix=prefix)
    except Exception:  # Celery refuses mixed old and new names: not read
        return False
    return conf.get(setting) == SENTINEL


@pytest.mark.parametrize("naming", NAMINGS, ids=lambda n: f"{n.style.value}-{n.prefix}-{n.django}")
@pytest.mark.parametrize(("name", "old_name"), SETTINGS)
def test_lookup_and_insert_names_are_what_celery_reads(
    naming: Naming, name: str, old_name: str
) -> None:
    for key in naming.lookup(name, old_name):
        assert celery_reads(naming, key, name), key
    assert naming.insert_name(name, old_name) in naming.lookup(name, old_name)
    assert celery_reads(naming, naming.insert_name(name, old_name), name)
    for key in naming.misnamed(name, old_name):
        assert not celery_reads(naming, key, name), key


def test_no_namespace_django_reads_old_names_only() -> None:
    naming = Naming.for_source(None, django=True, old=False)
    assert naming.style is Style.OLD
    assert naming.lookup("worker_log_color", "CELERYD_LOG_COLOR") == ("CELERYD_LOG_COLOR",)
    assert "CELERY_WORKER_LOG_COLOR" in naming.misnamed("worker_log_color", "CELERYD_LOG_COLOR")


def test_families() -> None:
    assert Naming.for_source("CELERY", django=True, old=False).in_family("CELERY_BROKER_URL")
    assert not Naming.for_source("TASKS", django=True, old=False).in_family("CELERY_BROKER_URL")
    old = Naming.for_source(None, django=True, old=False)
    assert old.in_family("BROKER_URL") and old.in_family("CELERYD_CONCURRENCY")
    assert not old.in_family("DATABASES")
    new = Naming.for_source(None, django=False, old=False)
    assert new.in_family("task_routes") and new.in_family("timezone")
    assert not new.in_family("os") and not new.in_family("HELPER")
    assert is_new_style("worker_log_color") and not is_new_style("WORKER_LOG_COLOR")
    assert is_old_style("CELERY_RESULT_BACKEND") and not is_old_style("DEBUG")


def test_lower_case_namespace_is_unreadable_on_django_only() -> None:
    assert not Naming.for_source("celery", django=True, old=False).readable
    assert Naming.for_source("celery", django=False, old=False).readable
