"""Which repository file a Dockerfile's COPY/ADD puts at a container path."""

from __future__ import annotations

import pytest

from celeryfix.sites.image_files import ImageFiles, guess_context

KNOWN = frozenset(
    {
        "compose/local/django/celery/worker/start",
        "compose/local/django/start",
        "docker/entrypoint.sh",
        "docker/start-worker.sh",
        "scripts/celery.sh",
        "scripts/beat.sh",
        "backend/run.sh",
        "backend/Dockerfile",
        "manage.py",
    }
)


def image(text: str, context: str = ".") -> ImageFiles:
    return ImageFiles("Dockerfile", "FROM python:3.12-slim\n" + text, context, KNOWN)


@pytest.mark.parametrize(
    ("text", "container", "expected"),
    [
        (
            "COPY ./compose/local/django/celery/worker/start /start-celeryworker\n",
            "/start-celeryworker",
            "compose/local/django/celery/worker/start",
        ),
        (
            "COPY --chown=app:app docker/entrypoint.sh /entrypoint\n",
            "/entrypoint",
            "docker/entrypoint.sh",
        ),
        ('COPY ["docker/entrypoint.sh", "/entrypoint"]\n', "/entrypoint", "docker/entrypoint.sh"),
        ("ADD docker/entrypoint.sh /entrypoint\n", "/entrypoint", "docker/entrypoint.sh"),
        ("WORKDIR /app\nCOPY . .\n", "/app/scripts/celery.sh", "scripts/celery.sh"),
        ("COPY . /app\n", "/app/./scripts/celery.sh", "scripts/celery.sh"),
        ("COPY scripts /opt/scripts\n", "/opt/scripts/beat.sh", "scripts/beat.sh"),
        ("COPY scripts/ /opt/\n", "/opt/beat.sh", "scripts/beat.sh"),
        (
            "COPY docker/start-worker.sh scripts/celery.sh /bin/\n",
            "/bin/celery.sh",
            "scripts/celery.sh",
        ),
        # without a trailing slash the destination may be a folder of the image: both readings
        (
            "COPY docker/start-worker.sh /usr/local/bin\n",
            "/usr/local/bin/start-worker.sh",
            "docker/start-worker.sh",
        ),
        (
            "COPY docker/start-worker.sh /usr/local/bin\n",
            "/usr/local/bin",
            "docker/start-worker.sh",
        ),
        (
            "ARG APP_HOME=/app\nWORKDIR ${APP_HOME}\nCOPY . ${APP_HOME}\n",
            "/app/manage.py",
            "manage.py",
        ),
        ("ENV APP=/srv/app\nCOPY . $APP\n", "/srv/app/manage.py", "manage.py"),
        ("ENV APP /srv/app\nCOPY . $APP\n", "/srv/app/manage.py", "manage.py"),
        ("WORKDIR /srv\nWORKDIR app\nCOPY . .\n", "/srv/app/manage.py", "manage.py"),
        ("COPY scripts/*.sh /usr/local/bin/\n", "/usr/local/bin/beat.sh", "scripts/beat.sh"),
        (
            "COPY scripts/celery.sh /run.sh\nCOPY docker/entrypoint.sh /run.sh\n",
            "/run.sh",
            "docker/entrypoint.sh",
        ),
    ],
)
def test_repo_path(text: str, container: str, expected: str) -> None:
    assert image(text).repo_path(container) == expected


@pytest.mark.parametrize(
    ("text", "container"),
    [
        ("COPY --from=builder /app /app\n", "/app/manage.py"),
        ("COPY . /app\n", "/app/missing.sh"),
        ("COPY $UNKNOWN /app\n", "/app/manage.py"),
        ("COPY https://example.invalid/x.sh /x.sh\n", "/x.sh"),
        ("COPY <<EOF /x.sh\necho\nEOF\n", "/x.sh"),
        ("COPY ../outside /app\n", "/app/x"),
        ("COPY docker/entrypoint.sh /entrypoint\n", "/other"),
    ],
)
def test_no_repo_path(text: str, container: str) -> None:
    assert image(text).repo_path(container) is None


def test_only_the_final_chain_counts() -> None:
    text = "FROM python:3.12 AS test\nCOPY scripts/celery.sh /w\nFROM python:3.12-slim\nCOPY scripts/beat.sh /b\n"
    files = ImageFiles("Dockerfile", text, ".", KNOWN)
    assert files.repo_path("/w") is None
    assert files.repo_path("/b") == "scripts/beat.sh"


def test_stages_it_derives_from_count_with_their_workdir() -> None:
    text = "FROM python:3.12-slim AS base\nWORKDIR /app\nCOPY . .\nFROM base\nCOPY docker/entrypoint.sh e\n"
    files = ImageFiles("Dockerfile", text, ".", KNOWN)
    assert files.workdir == "/app"
    assert files.repo_path("/app/e") == "docker/entrypoint.sh"
    assert files.repo_path("/app/manage.py") == "manage.py"


def test_context_of_a_subfolder() -> None:
    files = image("COPY run.sh /run.sh\n", context="backend")
    assert files.repo_path("/run.sh") == "backend/run.sh"


def test_holds() -> None:
    assert image("COPY . /app\n").holds("scripts/celery.sh")
    assert image("COPY scripts /s\n").holds("scripts/celery.sh")
    assert image("COPY scripts/*.sh /s/\n").holds("scripts/celery.sh")
    assert not image("COPY docker /d\n").holds("scripts/celery.sh")


def test_guess_context() -> None:
    assert guess_context("backend/Dockerfile", "FROM x\nCOPY run.sh /\n", KNOWN) == "backend"
    assert guess_context("backend/Dockerfile", "FROM x\nCOPY scripts/celery.sh /\n", KNOWN) == "."
    assert guess_context("backend/Dockerfile", "FROM x\nCOPY nowhere /\n", KNOWN) == "backend"
