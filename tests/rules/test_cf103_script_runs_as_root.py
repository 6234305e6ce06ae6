"""CF103: celery worker/beat commands in shell start scripts get --uid=nobody --gid=nogroup.

Who starts the script decides. Each case is a small repository: the script before and after,
compared byte for byte, and the files that start it (which never change). The oracles (the
scripts run by dash/bash with recording stubs, Celery's click parser on each invocation,
`sh -n`) run on every case in tests/sites/test_launch_oracles.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from repo_helpers import check_left_alone, check_noop, check_transformed, plan, reasons

F = "--uid=nobody --gid=nogroup"
S = "--schedule=/tmp/celerybeat-schedule"
WORKER = "#!/bin/sh\nexec celery -A proj worker -l info\n"
ROOT_APP_IMAGE = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"


def service(command: str, extra: str = "") -> str:
    """A compose file whose `celery` service, built from ./Dockerfile, runs `command`."""
    return f"services:\n  celery:\n    build: .\n{extra}    command: {command}\n"


@dataclass(frozen=True)
class Case:
    id: str
    path: str  # the script
    before: str
    after: str
    others: dict[str, str] = field(default_factory=dict)  # what starts it: never changed
    runs: tuple[tuple[str, ...], ...] = ((),)  # arguments the oracle runs the script with
    env: dict[str, str] = field(default_factory=dict)  # environment for the oracle's runs


TRANSFORMED = [
    Case(
        "unlinked-sh",
        "scripts/worker.sh",
        WORKER,
        f"#!/bin/sh\nexec celery -A proj worker -l info {F}\n",
    ),
    Case(
        "cookiecutter-start-through-copy",
        "compose/local/django/celery/worker/start",
        "#!/bin/bash\n\nset -o errexit\nset -o nounset\n\n\nexec celery -A config.celery_app worker -l INFO\n",
        f"#!/bin/bash\n\nset -o errexit\nset -o nounset\n\n\nexec celery -A config.celery_app worker -l INFO {F}\n",
        {
            "docker-compose.local.yml": "services:\n  celeryworker:\n    build:\n      context: .\n      dockerfile: ./compose/local/django/Dockerfile\n    command: /start-celeryworker\n",
            "compose/local/django/Dockerfile": "FROM docker.io/python:3.12-slim-bookworm\nARG APP_HOME=/app\nWORKDIR ${APP_HOME}\nCOPY ./compose/local/django/celery/worker/start /start-celeryworker\nRUN sed -i 's/\\r$//g' /start-celeryworker\nRUN chmod +x /start-celeryworker\nCOPY . ${APP_HOME}\n",
        },
    ),
    Case(
        "compose-relative-path",
        "scripts/celery.sh",
        WORKER,
        f"#!/bin/sh\nexec celery -A proj worker -l info {F}\n",
        {"docker-compose.yml": service("./scripts/celery.sh"), "Dockerfile": ROOT_APP_IMAGE},
    ),
    Case(
        "bash-entrypoint-case",
        "docker/entrypoint.sh",
        '#!/bin/sh\nset -e\ncase "$1" in\n  worker)\n    exec celery -A proj worker -l info\n    ;;\n  beat)\n    exec celery -A proj beat -l info\n    ;;\n  *)\n    exec "$@"\n    ;;\nesac\n',
        f'#!/bin/sh\nset -e\ncase "$1" in\n  worker)\n    exec celery -A proj worker -l info {F}\n    ;;\n  beat)\n    exec celery -A proj beat -l info {F} {S}\n    ;;\n  *)\n    exec "$@"\n    ;;\nesac\n',
        {
            "docker-compose.yml": "services:\n  celery:\n    build: .\n    command: bash docker/entrypoint.sh worker\n  celery-beat:\n    build: .\n    command: bash docker/entrypoint.sh beat\n",
            "Dockerfile": ROOT_APP_IMAGE,
        },
        runs=(("worker",), ("beat",)),
    ),
    Case(
        "app-option-and-worker-on-continued-lines",
        "docker/celery-worker.sh",
        '#!/bin/bash\nset -e\nexec celery --app=dojo \\\n  worker \\\n  --loglevel="${LOG_LEVEL}" \\\n  --concurrency=${CONCURRENCY:-1}\n',
        f'#!/bin/bash\nset -e\nexec celery --app=dojo \\\n  worker \\\n  --loglevel="${{LOG_LEVEL}}" \\\n  --concurrency=${{CONCURRENCY:-1}} {F}\n',
        env={"LOG_LEVEL": "INFO"},
    ),
    Case(
        "and-chain",
        "run-worker.sh",
        "#!/bin/sh\npython manage.py migrate && celery -A proj worker -l info && echo stopped\n",
        f"#!/bin/sh\npython manage.py migrate && celery -A proj worker -l info {F} && echo stopped\n",
    ),
    Case(
        "variables-in-arguments",
        "worker.sh",
        '#!/bin/sh\nexec celery -A "$APP" worker -l "${LEVEL:-info}" -Q $QUEUES\n',
        f'#!/bin/sh\nexec celery -A "$APP" worker -l "${{LEVEL:-info}}" -Q $QUEUES {F}\n',
        env={"APP": "proj", "QUEUES": "default,mail"},
    ),
    Case(
        "trailing-all-arguments",
        "worker.sh",
        '#!/bin/sh\nexec celery -A proj worker "$@"\n',
        f'#!/bin/sh\nexec celery -A proj worker {F} "$@"\n',
        runs=(("-l", "info"), ()),
    ),
    Case(
        "no-final-newline",
        "worker.sh",
        "#!/bin/sh\nexec celery -A proj worker",
        f"#!/bin/sh\nexec celery -A proj worker {F}",
    ),
    Case(
        "newrelic-wrapper",
        "worker.sh",
        "#!/bin/sh\nexec newrelic-admin run-program celery -A proj worker -l info\n",
        f"#!/bin/sh\nexec newrelic-admin run-program celery -A proj worker -l info {F}\n",
    ),
    Case(
        "watchfiles-args-string",
        "compose/local/django/celery/worker/start",
        "#!/bin/bash\n\nset -o errexit\nset -o nounset\n\nexec watchfiles --filter python celery.__main__.main --args '-A config.celery_app worker -l INFO'\n",
        f"#!/bin/bash\n\nset -o errexit\nset -o nounset\n\nexec watchfiles --filter python celery.__main__.main --args '-A config.celery_app worker -l INFO {F}'\n",
    ),
    Case(
        "watchmedo-if-branches",
        "worker.sh",
        "#!/bin/sh\nif [ \"$DEBUG\" = 1 ]; then\n  exec watchmedo auto-restart -d . -p '*.py' -- celery -A proj worker -l debug\nelse\n  exec celery -A proj worker -l info\nfi\n",
        f"#!/bin/sh\nif [ \"$DEBUG\" = 1 ]; then\n  exec watchmedo auto-restart -d . -p '*.py' -- celery -A proj worker -l debug {F}\nelse\n  exec celery -A proj worker -l info {F}\nfi\n",
        env={"DEBUG": "0"},
    ),
    Case(
        "crlf",
        "worker.sh",
        "#!/bin/sh\r\nset -e\r\nexec celery -A proj worker -l info\r\n",
        f"#!/bin/sh\r\nset -e\r\nexec celery -A proj worker -l info {F}\r\n",
    ),
    Case(
        "crlf-continued",
        "worker.sh",
        "#!/bin/sh\r\nexec celery -A proj \\\r\n  worker -l info\r\n",
        f"#!/bin/sh\r\nexec celery -A proj \\\r\n  worker -l info {F}\r\n",
    ),
    Case(
        "beat-schedule",
        "beat.sh",
        "#!/bin/sh\nrm -f './celerybeat.pid'\nexec celery -A proj beat -l info\n",
        f"#!/bin/sh\nrm -f './celerybeat.pid'\nexec celery -A proj beat -l info {F} {S}\n",
    ),
    Case(
        "beat-database-scheduler",
        "beat.sh",
        "#!/bin/sh\nexec celery -A proj beat -l info -S django_celery_beat.schedulers:DatabaseScheduler\n",
        f"#!/bin/sh\nexec celery -A proj beat -l info -S django_celery_beat.schedulers:DatabaseScheduler {F}\n",
    ),
    Case(
        "worker-embedded-beat",
        "worker.sh",
        "#!/bin/sh\nexec celery -A proj worker -B -l info\n",
        f"#!/bin/sh\nexec celery -A proj worker -B -l info {F} --schedule-filename=/tmp/celerybeat-schedule\n",
    ),
    Case(
        "extensionless-shebang",
        "bin/worker",
        "#!/usr/bin/env bash\nset -euo pipefail\nexec celery -A proj worker\n",
        f"#!/usr/bin/env bash\nset -euo pipefail\nexec celery -A proj worker {F}\n",
    ),
    Case(
        "wait-loop-then-worker",
        "worker.sh",
        "#!/bin/sh\nuntil nc -z redis 6379; do\n  sleep 1\ndone\nexec celery -A proj worker\n",
        f"#!/bin/sh\nuntil nc -z redis 6379; do\n  sleep 1\ndone\nexec celery -A proj worker {F}\n",
    ),
    Case(
        "background-and-redirections",
        "all.sh",
        "#!/bin/sh\ncelery -A proj worker -l info > /tmp/worker.log 2>&1 &\ncelery -A proj beat &\nwait\n",
        f"#!/bin/sh\ncelery -A proj worker -l info {F} > /tmp/worker.log 2>&1 &\ncelery -A proj beat {F} {S} &\nwait\n",
    ),
    Case(
        "comment-after-command",
        "worker.sh",
        "#!/bin/sh\nexec celery -A proj worker  # the default queue\n",
        f"#!/bin/sh\nexec celery -A proj worker {F}  # the default queue\n",
    ),
    Case(
        "commented-line-kept",
        "worker.sh",
        "#!/bin/sh\n# exec celery -A proj worker --concurrency=1\nexec celery -A proj worker\n",
        f"#!/bin/sh\n# exec celery -A proj worker --concurrency=1\nexec celery -A proj worker {F}\n",
    ),
    Case(
        "function-body",
        "worker.sh",
        '#!/bin/sh\nstart_worker() {\n  exec celery -A proj worker "$@"\n}\nstart_worker -l info\n',
        f'#!/bin/sh\nstart_worker() {{\n  exec celery -A proj worker {F} "$@"\n}}\nstart_worker -l info\n',
    ),
    Case(
        "sh-c-inside-script",
        "worker.sh",
        '#!/bin/sh\nexec sh -c "celery -A proj worker -l info"\n',
        f'#!/bin/sh\nexec sh -c "celery -A proj worker -l info {F}"\n',
    ),
    Case(
        "python-m-celery",
        "worker.sh",
        "#!/bin/sh\nexec python -m celery -A proj worker\n",
        f"#!/bin/sh\nexec python -m celery -A proj worker {F}\n",
    ),
    Case(
        "found-through-path-lookup-and-entrypoint",
        "scripts/worker.sh",
        WORKER,
        f"#!/bin/sh\nexec celery -A proj worker -l info {F}\n",
        {
            "docker-compose.yml": service("start-worker"),
            "Dockerfile": 'FROM python:3.12-slim\nWORKDIR /app\nCOPY docker/start-worker.sh /usr/local/bin/start-worker\nCOPY . .\nENTRYPOINT ["/app/docker/entrypoint.sh"]\n',
            "docker/start-worker.sh": "#!/bin/sh\nexec /app/scripts/worker.sh\n",
            "docker/entrypoint.sh": '#!/bin/sh\nexec "$@"\n',
        },
    ),
    Case(
        "dockerfile-cmd-runs-the-script",
        "start-worker.sh",
        WORKER,
        f"#!/bin/sh\nexec celery -A proj worker -l info {F}\n",
        {
            "Dockerfile": 'FROM python:3.12-slim\nCOPY start-worker.sh /start-worker.sh\nCMD ["/start-worker.sh"]\n'
        },
    ),
    Case(
        "rhel-family-image",
        "start-worker",
        "#!/bin/sh\nexec celery -A proj worker\n",
        "#!/bin/sh\nexec celery -A proj worker --uid=nobody --gid=nobody\n",
        {
            "docker-compose.yml": service("/start-worker"),
            "Dockerfile": "FROM registry.access.redhat.com/ubi9/python-311\nCOPY start-worker /start-worker\n",
        },
    ),
    Case(
        "shared-by-two-root-services",
        "celery.sh",
        WORKER,
        f"#!/bin/sh\nexec celery -A proj worker -l info {F}\n",
        {
            "docker-compose.yml": "services:\n  celery:\n    build: .\n    command: ./celery.sh\n  celery-2:\n    build: .\n    command: ./celery.sh\n",
            "Dockerfile": ROOT_APP_IMAGE,
        },
    ),
    Case(
        "user-root-in-compose-beats-user-of-image",
        "celery.sh",
        WORKER,
        f"#!/bin/sh\nexec celery -A proj worker -l info {F}\n",
        {
            "docker-compose.yml": service("./celery.sh", "    user: root\n"),
            "Dockerfile": ROOT_APP_IMAGE + "USER app\n",
        },
    ),
]


@pytest.mark.parametrize("case", TRANSFORMED, ids=[c.id for c in TRANSFORMED])
def test_transformed(tmp_path: Path, case: Case) -> None:
    check_transformed(tmp_path, {case.path: case.before, **case.others}, {case.path: case.after})


@pytest.mark.parametrize("case", TRANSFORMED, ids=[c.id for c in TRANSFORMED])
def test_second_run_changes_nothing(tmp_path: Path, case: Case) -> None:
    check_noop(tmp_path, {case.path: case.after, **case.others})


def test_a_script_nothing_starts_is_edited_with_a_note(tmp_path: Path) -> None:
    result = plan(tmp_path, {"scripts/worker.sh": WORKER})
    assert "on the assumption that it runs as root" in reasons(result)


def test_a_script_a_service_starts_gets_no_assumption_note(tmp_path: Path) -> None:
    result = plan(
        tmp_path,
        {
            "scripts/celery.sh": WORKER,
            "docker-compose.yml": service("./scripts/celery.sh"),
            "Dockerfile": ROOT_APP_IMAGE,
        },
    )
    assert [c.relpath for c in result.changes] == ["scripts/celery.sh"]
    assert "assumption" not in reasons(result)


def test_compose_naming_a_script_is_left_to_cf103(tmp_path: Path) -> None:
    """CF101 finds no celery invocation in `command: /start-celeryworker`: the compose file
    does not change, and the script gets the flags once."""
    case = next(c for c in TRANSFORMED if c.id == "cookiecutter-start-through-copy")
    result = check_transformed(
        tmp_path, {case.path: case.before, **case.others}, {case.path: case.after}
    )
    assert result.changes[0].rules == ("CF103",)
    assert not [n for n in result.notes if n.rule in ("CF101", "CF102")]


def test_ignored_rule_changes_nothing(tmp_path: Path) -> None:
    check_noop(tmp_path, {"worker.sh": WORKER}, ignore=["CF103"])


def test_selected_alone_covers_worker_and_beat(tmp_path: Path) -> None:
    before = "#!/bin/sh\ncelery -A p worker &\nexec celery -A p beat\n"
    after = f"#!/bin/sh\ncelery -A p worker {F} &\nexec celery -A p beat {F} {S}\n"
    check_transformed(tmp_path, {"run.sh": before}, {"run.sh": after}, select=["CF103"])


def test_uid_and_gid_options(tmp_path: Path) -> None:
    check_transformed(
        tmp_path,
        {"worker.sh": WORKER},
        {"worker.sh": WORKER.replace("info", "info --uid=celery --gid=celery")},
        uid="celery",
        gid="celery",
    )


def test_fileless_scheduler_in_settings(tmp_path: Path) -> None:
    before = "#!/bin/sh\nexec celery -A proj beat\n"
    check_transformed(
        tmp_path,
        {
            "beat.sh": before,
            "proj/settings.py": 'CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"\n',
        },
        {"beat.sh": before.replace("beat\n", f"beat {F}\n")},
    )


# (id, files, a fragment of the reported reason, or None when nothing is reported)
LEFT_ALONE: list[tuple[str, dict[str, str], str | None]] = [
    (
        "image-runs-as-django",
        {
            "docker-compose.production.yml": "services:\n  celeryworker:\n    build:\n      context: .\n      dockerfile: ./compose/production/django/Dockerfile\n    command: /start-celeryworker\n",
            "compose/production/django/Dockerfile": 'FROM python:3.12-slim AS python\nFROM python AS run\nRUN adduser --system django\nCOPY --chown=django:django ./compose/production/django/celery/worker/start /start-celeryworker\nUSER django\nENTRYPOINT ["/entrypoint"]\n',
            "compose/production/django/celery/worker/start": "#!/bin/bash\nset -o errexit\nexec celery -A config.celery_app worker -l INFO\n",
        },
        "USER django in compose/production/django/Dockerfile",
    ),
    (
        "compose-user",
        {
            "docker-compose.yml": service("./scripts/celery.sh", '    user: "1000:1000"\n'),
            "Dockerfile": ROOT_APP_IMAGE,
            "scripts/celery.sh": WORKER,
        },
        "user: 1000:1000 in docker-compose.yml",
    ),
    (
        "started-as-root-and-as-non-root",
        {
            "docker-compose.local.yml": "services:\n  celery:\n    build:\n      context: .\n      dockerfile: local.Dockerfile\n    command: /start-celeryworker\n",
            "docker-compose.production.yml": "services:\n  celery:\n    build:\n      context: .\n      dockerfile: production.Dockerfile\n    command: /start-celeryworker\n",
            "local.Dockerfile": "FROM python:3.12-slim\nCOPY celery/start /start-celeryworker\n",
            "production.Dockerfile": "FROM python:3.12-slim\nCOPY celery/start /start-celeryworker\nUSER django\n",
            "celery/start": WORKER,
        },
        "need different changes",
    ),
    (
        "images-need-different-groups",
        {
            "docker-compose.yml": "services:\n  celery-a:\n    build:\n      context: .\n      dockerfile: a.Dockerfile\n    command: /w\n  celery-b:\n    build:\n      context: .\n      dockerfile: b.Dockerfile\n    command: /w\n",
            "a.Dockerfile": "FROM python:3.12-slim\nCOPY w.sh /w\n",
            "b.Dockerfile": "FROM registry.access.redhat.com/ubi9/python-311\nCOPY w.sh /w\n",
            "w.sh": WORKER,
        },
        "--gid=nobody",
    ),
    (
        "gosu-before-the-script",
        {
            "docker-compose.yml": service("/entrypoint.sh"),
            "Dockerfile": "FROM python:3.12-slim\nCOPY entrypoint.sh /entrypoint.sh\nCOPY start.sh /start.sh\n",
            "entrypoint.sh": "#!/bin/sh\nchown -R app /data\nexec gosu app /start.sh\n",
            "start.sh": WORKER,
        },
        "`gosu` in entrypoint.sh",
    ),
    (
        "gosu-in-a-script-nothing-starts",
        {
            "docker/entrypoint.sh": "#!/bin/sh\nexec gosu app ./docker/start-worker.sh\n",
            "docker/start-worker.sh": WORKER,
        },
        "`gosu` in docker/entrypoint.sh",
    ),
    (
        "procfile",
        {"Procfile": "worker: bash scripts/worker.sh\n", "scripts/worker.sh": WORKER},
        "Procfile",
    ),
    (
        "copied-into-a-non-root-image",
        {"Dockerfile": ROOT_APP_IMAGE + "USER app\n", "scripts/worker.sh": WORKER},
        "USER app in Dockerfile",
    ),
    ("gosu", {"w.sh": "#!/bin/sh\nexec gosu app celery -A proj worker\n"}, "gosu"),
    ("su-exec", {"w.sh": "#!/bin/sh\nexec su-exec app:app celery -A proj worker\n"}, "su-exec"),
    (
        "s6-setuidgid",
        {"run": "#!/command/with-contenv sh\nexec s6-setuidgid app celery -A proj worker\n"},
        "s6-setuidgid",
    ),
    ("uid-given", {"w.sh": "#!/bin/sh\nexec celery -A p worker --uid 1000\n"}, "--uid/--gid"),
    ("detach", {"w.sh": "#!/bin/sh\ncelery -A p worker -D\n"}, "detach"),
    ("multi", {"w.sh": "#!/bin/sh\ncelery multi start w1 -A p\n"}, "multi"),
    ("flower", {"f.sh": "#!/bin/sh\nexec celery -A p flower --port=5555\n"}, None),
    (
        "commented-out",
        {"w.sh": "#!/bin/sh\n# exec celery -A proj worker\nexec gunicorn proj.wsgi\n"},
        None,
    ),
    ("echo-only", {"w.sh": '#!/bin/sh\necho "start: celery -A proj worker"\n'}, None),
    (
        "jinja-template",
        {"w.sh": "#!/bin/sh\nexec celery -A {{ cookiecutter.project_slug }} worker\n"},
        "template",
    ),
    (
        "in-a-template-folder",
        {"{{cookiecutter.project_slug}}/compose/local/django/celery/worker/start": WORKER},
        "template",
    ),
    (
        "unterminated-quote",
        {"w.sh": "#!/bin/sh\nexec celery -A proj worker -n 'w@%h\n"},
        "cannot be read reliably",
    ),
    (
        "wrapper-cli",
        {"w.sh": "#!/bin/sh\nexec nautobot-server celery worker -l INFO\n"},
        "nautobot-server",
    ),
    (
        "python-shebang",
        {
            "bin/worker": "#!/usr/bin/env python\nimport os\nos.execvp('celery', ['celery', 'worker'])\n"
        },
        None,
    ),
    (
        "not-a-script-name",
        {"docs/run-celery.txt": "exec celery -A proj worker\n"},
        None,
    ),
]


@pytest.mark.parametrize(
    ("files", "reason"), [c[1:] for c in LEFT_ALONE], ids=[c[0] for c in LEFT_ALONE]
)
def test_left_alone(tmp_path: Path, files: dict[str, str], reason: str | None) -> None:
    check_left_alone(tmp_path, files, "CF103", reason)


def test_user_of_a_service_in_a_compose_file_that_does_not_mention_celery(
    tmp_path: Path,
) -> None:
    check_noop(
        tmp_path,
        {
            "docker-compose.yml": "services:\n  jobs:\n    image: app\n    user: app\n    working_dir: /srv\n    command: ./docker/entrypoint.sh worker\n",
            "docker/entrypoint.sh": '#!/bin/sh\ncase "$1" in\n  worker) exec celery -A proj worker ;;\nesac\n',
        },
    )
