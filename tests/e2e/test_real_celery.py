"""The runbook's last check, in a real Celery: after `celeryfix apply` the logs are clean.

For the demo repository and the projects under fixtures/e2e, on Celery 5.4 and on the
newest 5.x, the worker and beat commands are read from the compose files through the
real compose loader and run on this host, as root, against a private redis-server.
The pristine copy shows the warnings; the fixed copy shows none, and its worker and
beat run as `nobody`.
"""

from __future__ import annotations

import harness
import pytest
from harness import Scenario

pytestmark = pytest.mark.e2e

NOBODY_UID, NOGROUP_GID = harness.nobody_ids()


# --------------------------------------------------------------------------- before the fix


def test_pristine_worker_warns_that_it_runs_as_root(scenario: Scenario) -> None:
    run = scenario.before_worker
    assert run.ready, run.describe()
    assert harness.SECURITY_WARNING in run.output, run.describe()
    assert run.main is not None and run.main.uids == (0, 0, 0, 0), run.describe()


def test_pristine_worker_warns_about_connection_retry_as_its_celery_does(
    scenario: Scenario,
) -> None:
    run = scenario.before_worker
    retry = scenario.project.retry_on_startup
    if scenario.line is harness.CELERY_54:
        # 5.3-5.4: whenever the setting is unset, naming the project's own retry value.
        assert scenario.celery_version.startswith("5.4."), scenario.celery_version
        assert harness.RETRY_WARNING_HEAD in run.output, run.describe()
        assert f"{harness.RETRY_WARNING_54}{retry}." in run.output, run.describe()
    elif retry:
        # 5.5+: silent while broker_connection_retry keeps its default (True).
        assert harness.RETRY_WARNING_HEAD not in run.output, run.describe()
    else:
        assert harness.RETRY_WARNING_55 in run.output, run.describe()


def test_pristine_app_leaves_the_three_settings_at_their_defaults(scenario: Scenario) -> None:
    settings = scenario.before_settings
    assert settings["broker_connection_retry"] is scenario.project.retry_on_startup, settings
    assert settings["broker_connection_retry_on_startup"] is None, settings
    assert settings["worker_hijack_root_logger"] is True, settings
    assert settings["worker_log_color"] is None, settings


# --------------------------------------------------------------------------- after the fix


def test_apply_succeeds(scenario: Scenario) -> None:
    applied = scenario.after.apply
    assert applied.returncode == 0, applied.stderr


def test_fixed_worker_starts_without_the_warnings(scenario: Scenario) -> None:
    run = scenario.after.worker
    assert run.ready, run.describe()
    assert "SecurityWarning" not in run.output, run.describe()
    assert "superuser privileges" not in run.output, run.describe()
    assert "broker_connection_retry" not in run.output, run.describe()
    assert "CPendingDeprecationWarning" not in run.output, run.describe()
    assert "Traceback" not in until_shutdown(run.output), run.describe()


def until_shutdown(output: str) -> str:
    """The output up to the stop the test itself asks for: Celery 5.4's prefork pool sometimes
    logs an `EOFError` traceback while it tears down on SIGTERM (billiard's _help_stuff_finish),
    which says nothing about start-up."""
    return output.split("worker: Warm shutdown", 1)[0]


def test_fixed_worker_and_its_pool_run_as_nobody(scenario: Scenario) -> None:
    run = scenario.after.worker
    assert run.ready, run.describe()
    assert run.main is not None, run.describe()
    assert run.main.uids == (NOBODY_UID,) * 4, run.describe()
    assert run.main.gids == (NOGROUP_GID,) * 4, run.describe()
    assert run.children, f"no pool process found\n{run.describe()}"
    for child in run.children:
        assert child.uids == (NOBODY_UID,) * 4, run.describe()
        assert child.gids == (NOGROUP_GID,) * 4, run.describe()


def test_fixed_beat_stays_up_as_nobody(scenario: Scenario) -> None:
    # Beat prints no root warning at all; the proof is that it still runs, as nobody.
    run = scenario.after.beat
    assert run.alive_at_end, f"beat exited early\n{run.describe()}"
    assert "beat: Starting..." in run.output, run.describe()
    assert "Permission denied" not in run.output, run.describe()
    assert "CRITICAL" not in run.output, run.describe()
    assert "Traceback" not in run.output, run.describe()
    assert run.main is not None, run.describe()
    assert run.main.uids == (NOBODY_UID,) * 4, run.describe()
    assert run.main.gids == (NOGROUP_GID,) * 4, run.describe()


def test_fixed_app_holds_the_intended_settings(scenario: Scenario) -> None:
    settings = scenario.after.settings
    # CF201 carries the project's own broker_connection_retry over; CF202/CF203: False.
    assert settings["broker_connection_retry"] is scenario.project.retry_on_startup, settings
    assert settings["broker_connection_retry_on_startup"] is scenario.project.retry_on_startup, (
        settings
    )
    assert settings["worker_hijack_root_logger"] is False, settings
    assert settings["worker_log_color"] is False, settings
