"""fixtures/cookiecutter-like, fixed end to end through the engine.

The layout of a project generated from cookiecutter-django: compose runs `/start-celeryworker`,
which the Dockerfile of the service COPYs from compose/<env>/django/celery/worker/start. The local
image runs as root: its start scripts gain the flags. The production image ends with `USER
django`: its start scripts are left alone, with the reason. Compose files never change. The
Celery settings that are missing go to config/settings/base.py, which both environments import
(production's DJANGO_SETTINGS_MODULE comes from the compose `env_file:`).
"""

from __future__ import annotations

from pathlib import Path

from repo_helpers import check_transformed, reasons

from celeryfix.models import NoteKind

FIXTURE = Path(__file__).parents[2] / "fixtures" / "cookiecutter-like"
LOCAL = "compose/local/django/celery"
PRODUCTION = "compose/production/django/celery"
F = "--uid=nobody --gid=nogroup"
SETTINGS_ADDED = (
    "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True\nCELERY_WORKER_LOG_COLOR = False\n"
)


def fixture_files() -> dict[str, str | bytes]:
    return {
        path.relative_to(FIXTURE).as_posix(): path.read_bytes()
        for path in sorted(FIXTURE.rglob("*"))
        if path.is_file()
    }


def fixed_scripts(files: dict[str, str | bytes]) -> dict[str, str | bytes]:
    worker = str(files[f"{LOCAL}/worker/start"], "utf-8")
    beat = str(files[f"{LOCAL}/beat/start"], "utf-8")
    # The settings keep the beat schedule in the database: beat needs no schedule file.
    return {
        f"{LOCAL}/worker/start": worker.replace("worker -l INFO\n", f"worker -l INFO {F}\n"),
        f"{LOCAL}/beat/start": beat.replace("beat -l INFO\n", f"beat -l INFO {F}\n"),
    }


def test_fixed_end_to_end(tmp_path: Path) -> None:
    files = fixture_files()
    base = str(files["config/settings/base.py"], "utf-8")
    result = check_transformed(
        tmp_path,
        files,
        # base.py: what config.settings.local and config.settings.production both import.
        {**fixed_scripts(files), "config/settings/base.py": base + SETTINGS_ADDED},
    )
    skipped = {n.path: n.message for n in result.notes if n.kind is NoteKind.SKIP}
    for name in ("worker", "beat"):
        message = skipped[f"{PRODUCTION}/{name}/start"]
        assert "USER django in compose/production/django/Dockerfile" in message
        assert f"service `celery{name}` of docker-compose.production.yml" in message
    assert not [n for n in result.notes if n.rule in ("CF101", "CF102", "CF104")]
    assert "assumption" not in reasons(result)


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    files = fixture_files()
    first = check_transformed(tmp_path / "first", files, {**fixed_scripts(files)}, select=["CF103"])
    fixed = {**files, **{c.relpath: c.new_text for c in first.changes}}
    check_transformed(tmp_path / "second", fixed, {}, select=["CF103"])
