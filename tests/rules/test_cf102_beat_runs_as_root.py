"""CF102: celery beat (and worker -B) commands get --uid/--gid and a writable schedule file."""

from __future__ import annotations

from pathlib import Path

import pytest
from repo_helpers import check_noop, check_transformed, reasons

F = "--uid=nobody --gid=nogroup"
S = "--schedule=/tmp/celerybeat-schedule"


def compose(command: str) -> str:
    return f"services:\n  beat:\n    build: .\n    command: {command}\n"


TRANSFORMED = [
    ("plain", "celery -A proj beat -l info", f"celery -A proj beat -l info {F} {S}"),
    (
        "schedule-given",
        "celery -A proj beat -s /var/run/beat/schedule",
        f"celery -A proj beat -s /var/run/beat/schedule {F}",
    ),
    (
        "schedule-long-form",
        "celery -A proj beat --schedule=/data/beat",
        f"celery -A proj beat --schedule=/data/beat {F}",
    ),
    (
        "database-scheduler",
        "celery -A proj beat -l info -S django_celery_beat.schedulers:DatabaseScheduler",
        f"celery -A proj beat -l info -S django_celery_beat.schedulers:DatabaseScheduler {F}",
    ),
    (
        "redbeat",
        "celery -A proj beat --scheduler redbeat.RedBeatScheduler",
        f"celery -A proj beat --scheduler redbeat.RedBeatScheduler {F}",
    ),
    (
        "worker-embedded-beat",
        "celery -A proj worker -B -l info",
        f"celery -A proj worker -B -l info {F} --schedule-filename=/tmp/celerybeat-schedule",
    ),
    (
        "worker-embedded-beat-combined-flags",
        "celery -A proj worker -EB",
        f"celery -A proj worker -EB {F} --schedule-filename=/tmp/celerybeat-schedule",
    ),
    (
        "worker-beat-with-schedule",
        "celery -A proj worker --beat -s /tmp/s",
        f"celery -A proj worker --beat -s /tmp/s {F}",
    ),
    ("old-order", "celery beat -A proj", f"celery beat -A proj {F} {S}"),
]


@pytest.mark.parametrize(
    ("before", "after"), [c[1:] for c in TRANSFORMED], ids=[c[0] for c in TRANSFORMED]
)
def test_transformed(tmp_path: Path, before: str, after: str) -> None:
    check_transformed(
        tmp_path, {"docker-compose.yml": compose(before)}, {"docker-compose.yml": compose(after)}
    )


def test_scheduler_from_settings_keeps_no_file(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "docker-compose.yml": compose("celery -A proj beat"),
        "proj/settings.py": 'CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"\n',
    }
    result = check_transformed(
        tmp_path,
        files,
        {"docker-compose.yml": compose(f"celery -A proj beat {F}")},
        select=["CF102"],
    )
    assert [c.rules for c in result.changes] == [("CF102",)]


def test_schedule_path_option(tmp_path: Path) -> None:
    check_transformed(
        tmp_path,
        {"docker-compose.yml": compose("celery -A proj beat")},
        {"docker-compose.yml": compose(f"celery -A proj beat {F} --schedule=/var/lib/beat/s")},
        schedule="/var/lib/beat/s",
    )


def test_only_cf102_selected_still_fixes_embedded_beat(tmp_path: Path) -> None:
    result = check_transformed(
        tmp_path,
        {"docker-compose.yml": compose("celery -A proj worker -B")},
        {
            "docker-compose.yml": compose(
                f"celery -A proj worker -B {F} --schedule-filename=/tmp/celerybeat-schedule"
            )
        },
        select=["CF102"],
    )
    assert result.changes[0].rules == ("CF102",)


def test_ignored_cf102_leaves_beat(tmp_path: Path) -> None:
    check_noop(tmp_path, {"docker-compose.yml": compose("celery -A proj beat")}, ignore=["CF102"])


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ("celery -A proj beat --detach", "detach"),
        ("celery -A proj beat --uid=app", "already sets --uid"),
        ("gosu app celery -A proj beat", "gosu"),
    ],
)
def test_left_alone(tmp_path: Path, command: str, reason: str) -> None:
    result = check_noop(tmp_path, {"docker-compose.yml": compose(command)})
    assert reason in reasons(result)
