"""CF104: a Dockerfile's CMD/ENTRYPOINT that starts a worker or beat gets --uid/--gid.

Each case is a Dockerfile before/after, compared byte for byte (with the compose files around
it, which never change). The oracles (Celery's click parser on the default command, read
independently from the Dockerfile and run through dash with recording stubs) run on every case
in tests/sites/test_launch_oracles.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from repo_helpers import check_left_alone, check_noop, check_transformed

F = "--uid=nobody --gid=nogroup"
S = "--schedule=/tmp/celerybeat-schedule"
FLAG_ITEMS = '"--uid=nobody", "--gid=nogroup"'
SLIM = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"


@dataclass(frozen=True)
class Case:
    id: str
    before: str  # the Dockerfile
    after: str
    others: dict[str, str] = field(default_factory=dict)  # compose files: never changed


TRANSFORMED = [
    Case(
        "exec-form",
        SLIM + 'CMD ["celery", "-A", "proj", "worker", "-l", "info"]\n',
        SLIM + f'CMD ["celery", "-A", "proj", "worker", "-l", "info", {FLAG_ITEMS}]\n',
    ),
    Case(
        "exec-form-no-spaces",
        SLIM + 'CMD ["celery","-A","proj","worker"]\n',
        SLIM + 'CMD ["celery","-A","proj","worker","--uid=nobody","--gid=nogroup"]\n',
    ),
    Case(
        "exec-form-inner-spaces",
        SLIM + 'CMD [ "celery" , "-A" , "proj" , "worker" ]\n',
        SLIM + 'CMD [ "celery" , "-A" , "proj" , "worker" , "--uid=nobody" , "--gid=nogroup" ]\n',
    ),
    Case(
        "exec-form-continued-lines",
        SLIM + 'CMD ["celery", \\\n     "-A", "proj", \\\n     "worker"]\n',
        SLIM + f'CMD ["celery", \\\n     "-A", "proj", \\\n     "worker", {FLAG_ITEMS}]\n',
    ),
    Case(
        "shell-form",
        SLIM + "CMD celery -A proj worker -l info\n",
        SLIM + f"CMD celery -A proj worker -l info {F}\n",
    ),
    Case(
        "shell-form-continued-with-comment-line",
        SLIM
        + "CMD celery -A proj \\\n    # the queues come from the settings\n    worker -l info\n",
        SLIM
        + f"CMD celery -A proj \\\n    # the queues come from the settings\n    worker -l info {F}\n",
    ),
    Case(
        "shell-form-exec-chain",
        SLIM + "CMD python manage.py migrate && exec celery -A proj worker\n",
        SLIM + f"CMD python manage.py migrate && exec celery -A proj worker {F}\n",
    ),
    Case(
        "exec-form-sh-c",
        SLIM + 'CMD ["sh", "-c", "python manage.py migrate && celery -A proj worker"]\n',
        SLIM + f'CMD ["sh", "-c", "python manage.py migrate && celery -A proj worker {F}"]\n',
    ),
    Case(
        "exec-form-sh-c-json-escapes",
        SLIM + 'CMD ["sh", "-c", "celery -A proj worker -n \\"w@%h\\""]\n',
        SLIM + f'CMD ["sh", "-c", "celery -A proj worker -n \\"w@%h\\" {F}"]\n',
    ),
    Case(
        "entrypoint-and-cmd",
        SLIM + 'ENTRYPOINT ["celery", "-A", "proj"]\nCMD ["worker", "-l", "info"]\n',
        SLIM + f'ENTRYPOINT ["celery", "-A", "proj"]\nCMD ["worker", "-l", "info", {FLAG_ITEMS}]\n',
    ),
    Case(
        "entrypoint-only",
        SLIM + 'ENTRYPOINT ["celery", "-A", "proj", "worker"]\n',
        SLIM + f'ENTRYPOINT ["celery", "-A", "proj", "worker", {FLAG_ITEMS}]\n',
    ),
    Case(
        "tini-entrypoint",
        SLIM + 'ENTRYPOINT ["tini", "--"]\nCMD ["celery", "-A", "proj", "worker"]\n',
        SLIM + f'ENTRYPOINT ["tini", "--"]\nCMD ["celery", "-A", "proj", "worker", {FLAG_ITEMS}]\n',
    ),
    Case(
        "watchfiles-args",
        SLIM
        + 'CMD ["watchfiles", "--filter", "python", "celery.__main__.main", "--args", "-A proj worker -l info"]\n',
        SLIM
        + f'CMD ["watchfiles", "--filter", "python", "celery.__main__.main", "--args", "-A proj worker -l info {F}"]\n',
    ),
    Case(
        "beat",
        SLIM + 'CMD ["celery", "-A", "proj", "beat", "-l", "info"]\n',
        SLIM + f'CMD ["celery", "-A", "proj", "beat", "-l", "info", {FLAG_ITEMS}, "{S}"]\n',
    ),
    Case(
        "rhel-family-base",
        "FROM registry.access.redhat.com/ubi9/python-311\nCMD celery -A proj worker\n",
        "FROM registry.access.redhat.com/ubi9/python-311\nCMD celery -A proj worker --uid=nobody --gid=nobody\n",
    ),
    Case(
        "user-root-after-user-app",
        SLIM + "USER app\nRUN pip install --user celery\nUSER root\nCMD celery -A proj worker\n",
        SLIM
        + f"USER app\nRUN pip install --user celery\nUSER root\nCMD celery -A proj worker {F}\n",
    ),
    Case(
        "multi-stage-builder-user-not-final",
        "FROM python:3.12 AS builder\nUSER builder\nRUN pip wheel -w /w celery\nFROM python:3.12-slim\nCOPY --from=builder /w /w\nCMD celery -A proj worker\n",
        f"FROM python:3.12 AS builder\nUSER builder\nRUN pip wheel -w /w celery\nFROM python:3.12-slim\nCOPY --from=builder /w /w\nCMD celery -A proj worker {F}\n",
    ),
    Case(
        "cmd-inherited-from-a-stage",
        "FROM python:3.12-slim AS base\nCMD celery -A proj worker\nFROM base\nRUN pip install celery\n",
        f"FROM python:3.12-slim AS base\nCMD celery -A proj worker {F}\nFROM base\nRUN pip install celery\n",
    ),
    Case(
        "crlf-exec-form",
        'FROM python:3.12-slim\r\nCMD ["celery", "-A", "proj", \\\r\n  "worker"]\r\n',
        f'FROM python:3.12-slim\r\nCMD ["celery", "-A", "proj", \\\r\n  "worker", {FLAG_ITEMS}]\r\n',
    ),
    Case(
        "crlf-shell-form",
        "FROM python:3.12-slim\r\nCMD celery -A proj \\\r\n  worker\r\n",
        f"FROM python:3.12-slim\r\nCMD celery -A proj \\\r\n  worker {F}\r\n",
    ),
    Case(
        "no-final-newline",
        SLIM + 'CMD ["celery", "-A", "proj", "worker"]',
        SLIM + f'CMD ["celery", "-A", "proj", "worker", {FLAG_ITEMS}]',
    ),
    Case(
        "cmd-overridden-by-compose-is-still-the-image-default",
        SLIM + 'CMD ["celery", "-A", "proj", "worker"]\n',
        SLIM + f'CMD ["celery", "-A", "proj", "worker", {FLAG_ITEMS}]\n',
        {
            "docker-compose.yml": "services:\n  web:\n    build: .\n    user: app\n    command: gunicorn proj.wsgi\n  celery:\n    build: .\n    command: celery -A proj worker --uid=nobody --gid=nogroup\n"
        },
    ),
]


@pytest.mark.parametrize("case", TRANSFORMED, ids=[c.id for c in TRANSFORMED])
def test_transformed(tmp_path: Path, case: Case) -> None:
    check_transformed(
        tmp_path, {"Dockerfile": case.before, **case.others}, {"Dockerfile": case.after}
    )


@pytest.mark.parametrize("case", TRANSFORMED, ids=[c.id for c in TRANSFORMED])
def test_second_run_changes_nothing(tmp_path: Path, case: Case) -> None:
    check_noop(tmp_path, {"Dockerfile": case.after, **case.others})


def test_named_dockerfiles(tmp_path: Path) -> None:
    before = "FROM python:3.12-slim\nCMD celery -A proj worker\n"
    check_transformed(
        tmp_path,
        {"docker/worker.Dockerfile": before, "Dockerfile.beat": before.replace("worker", "beat")},
        {
            "docker/worker.Dockerfile": before.replace("worker\n", f"worker {F}\n"),
            "Dockerfile.beat": before.replace("worker", f"beat {F} {S}"),
        },
    )


def test_ignored_rule_changes_nothing(tmp_path: Path) -> None:
    check_noop(tmp_path, {"Dockerfile": SLIM + "CMD celery -A p worker\n"}, ignore=["CF104"])


# (id, files, a fragment of the reported reason, or None when nothing is reported)
LEFT_ALONE: list[tuple[str, dict[str, str], str | None]] = [
    (
        "user-in-final-stage",
        {"Dockerfile": SLIM + 'USER app\nCMD ["celery", "-A", "proj", "worker"]\n'},
        "USER app in Dockerfile",
    ),
    (
        "user-in-a-stage-it-derives-from",
        {
            "Dockerfile": "FROM python:3.12-slim AS base\nRUN useradd app\nUSER app\nFROM base\nCMD celery -A proj worker\n"
        },
        "USER app in Dockerfile",
    ),
    (
        "numeric-user",
        {"Dockerfile": SLIM + "USER 1000:1000\nCMD celery -A proj worker\n"},
        "USER 1000:1000",
    ),
    (
        "cmd-in-a-build-stage",
        {
            "Dockerfile": "FROM python:3.12 AS test\nCMD celery -A proj worker\nFROM python:3.12-slim\nCMD gunicorn proj.wsgi\n"
        },
        None,
    ),
    (
        "entrypoint-resets-the-inherited-cmd",
        {
            "Dockerfile": 'FROM python:3.12-slim AS base\nCMD celery -A proj worker\nFROM base\nENTRYPOINT ["/entrypoint.sh"]\n'
        },
        None,
    ),
    (
        "shell-form-entrypoint-ignores-cmd",
        {
            "Dockerfile": SLIM
            + 'ENTRYPOINT exec gunicorn proj.wsgi\nCMD ["celery", "-A", "p", "worker"]\n'
        },
        None,
    ),
    (
        "healthcheck-and-run",
        {
            "Dockerfile": SLIM
            + 'RUN celery --version\nHEALTHCHECK CMD celery -A proj inspect ping\nCMD ["gunicorn", "proj.wsgi"]\n'
        },
        None,
    ),
    ("flower", {"Dockerfile": SLIM + 'CMD ["celery", "-A", "proj", "flower"]\n'}, None),
    (
        "gosu",
        {"Dockerfile": SLIM + 'CMD ["gosu", "app", "celery", "-A", "proj", "worker"]\n'},
        "gosu",
    ),
    (
        "uid-given",
        {"Dockerfile": SLIM + 'CMD ["celery", "-A", "proj", "worker", "--uid", "app"]\n'},
        "--uid/--gid",
    ),
    (
        "entrypoint-kept-by-a-non-root-service",
        {
            "Dockerfile": SLIM + 'ENTRYPOINT ["celery", "-A", "proj", "worker"]\n',
            "docker-compose.yml": 'services:\n  celery:\n    build: .\n    user: app\n    command: ["-l", "info"]\n',
        },
        "need different changes",
    ),
    (
        "jinja-template",
        {
            "Dockerfile": "FROM python:{{ cookiecutter.python_version }}\nCMD celery -A proj worker\n"
        },
        "template",
    ),
    (
        "in-a-template-folder",
        {"{{cookiecutter.project_slug}}/Dockerfile": SLIM + "CMD celery -A proj worker\n"},
        "template",
    ),
    (
        "commented-out",
        {"Dockerfile": SLIM + '# CMD ["celery", "-A", "proj", "worker"]\nCMD ["gunicorn"]\n'},
        None,
    ),
]


@pytest.mark.parametrize(
    ("files", "reason"), [c[1:] for c in LEFT_ALONE], ids=[c[0] for c in LEFT_ALONE]
)
def test_left_alone(tmp_path: Path, files: dict[str, str], reason: str | None) -> None:
    check_left_alone(tmp_path, files, "CF104", reason)


def test_cmd_run_by_a_non_root_service_without_a_command(tmp_path: Path) -> None:
    check_noop(
        tmp_path,
        {
            "Dockerfile": SLIM + 'CMD ["celery", "-A", "proj", "worker"]\n',
            "docker-compose.yml": 'services:\n  celery:\n    build: .\n    user: "${UID}:${GID}"\n',
        },
    )
