"""CF101: celery worker commands in compose files get --uid=nobody --gid=nogroup.

Each case is a before/after pair compared byte for byte; the oracles (the real compose loader
and Celery's own click parser) run on every transformed case in tests/compose/test_oracles.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from repo_helpers import check_noop, check_transformed, reasons

F = "--uid=nobody --gid=nogroup"

# (id, before, after) for docker-compose.yml
TRANSFORMED = [
    (
        "plain",
        "services:\n  celery:\n    build: .\n    command: celery -A proj worker -l info\n",
        f"services:\n  celery:\n    build: .\n    command: celery -A proj worker -l info {F}\n",
    ),
    (
        "double-quoted",
        'services:\n  w:\n    image: python:3.12\n    command: "celery -A proj worker -l info"\n',
        f'services:\n  w:\n    image: python:3.12\n    command: "celery -A proj worker -l info {F}"\n',
    ),
    (
        "single-quoted",
        "services:\n  w:\n    image: python:3.12\n    command: 'celery -A proj worker'\n",
        f"services:\n  w:\n    image: python:3.12\n    command: 'celery -A proj worker {F}'\n",
    ),
    (
        "comment-after-value",
        "services:\n  w:\n    image: app\n    command: celery -A proj worker  # the worker\n",
        f"services:\n  w:\n    image: app\n    command: celery -A proj worker {F}  # the worker\n",
    ),
    (
        "trailing-space",
        "services:\n  w:\n    image: app\n    command: celery -A proj worker \n",
        f"services:\n  w:\n    image: app\n    command: celery -A proj worker {F} \n",
    ),
    (
        "flow-list",
        'services:\n  w:\n    image: app\n    command: ["celery", "-A", "proj", "worker", "-l", "info"]\n',
        'services:\n  w:\n    image: app\n    command: ["celery", "-A", "proj", "worker", "-l", "info", "--uid=nobody", "--gid=nogroup"]\n',
    ),
    (
        "flow-list-inner-spaces-single-quotes",
        "services:\n  w:\n    image: app\n    command: [ 'celery', 'worker', '-A', 'proj' ]\n",
        "services:\n  w:\n    image: app\n    command: [ 'celery', 'worker', '-A', 'proj', '--uid=nobody', '--gid=nogroup' ]\n",
    ),
    (
        "flow-list-many-lines",
        'services:\n  w:\n    image: app\n    command: [\n      "celery",\n      "-A",\n      "proj",\n      "worker"\n    ]\n',
        'services:\n  w:\n    image: app\n    command: [\n      "celery",\n      "-A",\n      "proj",\n      "worker",\n      "--uid=nobody",\n      "--gid=nogroup"\n    ]\n',
    ),
    (
        "block-list",
        "services:\n  w:\n    image: app\n    command:\n      - celery\n      - -A\n      - proj\n      - worker\n\n  web:\n    image: app\n",
        "services:\n  w:\n    image: app\n    command:\n      - celery\n      - -A\n      - proj\n      - worker\n      - --uid=nobody\n      - --gid=nogroup\n\n  web:\n    image: app\n",
    ),
    (
        "block-list-comment-of-next-key",
        "services:\n  w:\n    image: app\n    command:\n    - celery\n    - worker   # run it\n    # the environment\n    environment:\n      A: b\n",
        "services:\n  w:\n    image: app\n    command:\n    - celery\n    - worker   # run it\n    - --uid=nobody\n    - --gid=nogroup\n    # the environment\n    environment:\n      A: b\n",
    ),
    (
        "entrypoint-list-command-list",
        'services:\n  w:\n    image: app\n    entrypoint: ["celery", "-A", "proj"]\n    command: ["worker", "-l", "info"]\n',
        'services:\n  w:\n    image: app\n    entrypoint: ["celery", "-A", "proj"]\n    command: ["worker", "-l", "info", "--uid=nobody", "--gid=nogroup"]\n',
    ),
    (
        "entrypoint-block-list-only",
        "services:\n  w:\n    image: app\n    entrypoint:\n      - celery\n      - --app=proj\n      - worker\n",
        "services:\n  w:\n    image: app\n    entrypoint:\n      - celery\n      - --app=proj\n      - worker\n      - --uid=nobody\n      - --gid=nogroup\n",
    ),
    (
        "sh-c-chain",
        'services:\n  w:\n    image: app\n    command: sh -c "python manage.py migrate && celery -A proj worker -l info"\n',
        f'services:\n  w:\n    image: app\n    command: sh -c "python manage.py migrate && celery -A proj worker -l info {F}"\n',
    ),
    (
        "bash-c-then-more",
        "services:\n  w:\n    image: app\n    command: bash -c 'celery -A proj worker -l info & celery -A proj beat; wait'\n",
        f"services:\n  w:\n    image: app\n    command: bash -c 'celery -A proj worker -l info {F} & celery -A proj beat {F} --schedule=/tmp/celerybeat-schedule; wait'\n",
    ),
    (
        "folded-bash-c",
        "services:\n  w:\n    image: app\n    command: >\n      /bin/bash -c '\n        celery -A app worker -B -l ${LEVEL:-INFO}'\n",
        f"services:\n  w:\n    image: app\n    command: >\n      /bin/bash -c '\n        celery -A app worker -B -l ${{LEVEL:-INFO}} {F} --schedule-filename=/tmp/celerybeat-schedule'\n",
    ),
    (
        "literal-block",
        "services:\n  w:\n    image: app\n    command: |\n      celery -A proj worker\n",
        f"services:\n  w:\n    image: app\n    command: |\n      celery -A proj worker {F}\n",
    ),
    (
        "plain-multiline-sh-c",
        'services:\n  w:\n    image: app\n    command: sh -c "python manage.py migrate &&\n      celery -A proj worker -l info"\n',
        f'services:\n  w:\n    image: app\n    command: sh -c "python manage.py migrate &&\n      celery -A proj worker -l info {F}"\n',
    ),
    (
        "python-m-celery",
        "services:\n  w:\n    image: app\n    command: python -m celery -A proj worker\n",
        f"services:\n  w:\n    image: app\n    command: python -m celery -A proj worker {F}\n",
    ),
    (
        "absolute-path",
        "services:\n  w:\n    image: app\n    command: /usr/local/bin/celery --app=proj worker --concurrency=4\n",
        f"services:\n  w:\n    image: app\n    command: /usr/local/bin/celery --app=proj worker --concurrency=4 {F}\n",
    ),
    (
        "old-order",
        "services:\n  w:\n    image: app\n    command: celery worker -A proj -l info\n",
        f"services:\n  w:\n    image: app\n    command: celery worker -A proj -l info {F}\n",
    ),
    (
        "both-app-options",
        "services:\n  w:\n    image: app\n    command: celery -A proj --app proj worker\n",
        f"services:\n  w:\n    image: app\n    command: celery -A proj --app proj worker {F}\n",
    ),
    (
        "wrappers",
        "services:\n  w:\n    image: app\n    command: tini -- env C_FORCE_ROOT=0 celery -A proj worker\n",
        f"services:\n  w:\n    image: app\n    command: tini -- env C_FORCE_ROOT=0 celery -A proj worker {F}\n",
    ),
    (
        "watchmedo",
        "services:\n  w:\n    image: app\n    command: watchmedo auto-restart --directory=./ --pattern=*.py --recursive -- celery -A proj worker\n",
        f"services:\n  w:\n    image: app\n    command: watchmedo auto-restart --directory=./ --pattern=*.py --recursive -- celery -A proj worker {F}\n",
    ),
    (
        "uv-run",
        "services:\n  w:\n    image: app\n    command: uv run celery -A proj worker\n",
        f"services:\n  w:\n    image: app\n    command: uv run celery -A proj worker {F}\n",
    ),
    (
        "redirection",
        "services:\n  w:\n    image: app\n    command: sh -c 'exec celery -A proj worker >> /var/log/worker.log 2>&1'\n",
        f"services:\n  w:\n    image: app\n    command: sh -c 'exec celery -A proj worker {F} >> /var/log/worker.log 2>&1'\n",
    ),
    (
        "crlf",
        "services:\r\n  w:\r\n    image: app\r\n    command:\r\n      - celery\r\n      - worker\r\n    restart: always\r\n",
        "services:\r\n  w:\r\n    image: app\r\n    command:\r\n      - celery\r\n      - worker\r\n      - --uid=nobody\r\n      - --gid=nogroup\r\n    restart: always\r\n",
    ),
    (
        "crlf-folded",
        'services:\r\n  w:\r\n    image: app\r\n    command: >\r\n      sh -c "celery -A proj\r\n      worker"\r\n',
        f'services:\r\n  w:\r\n    image: app\r\n    command: >\r\n      sh -c "celery -A proj\r\n      worker {F}"\r\n',
    ),
    (
        "anchor-merged-once",
        "x-celery: &celery\n  image: app\n  command: celery -A proj worker\n\nservices:\n  w1:\n    <<: *celery\n  w2:\n    <<: *celery\n    environment:\n      Q: b\n",
        f"x-celery: &celery\n  image: app\n  command: celery -A proj worker {F}\n\nservices:\n  w1:\n    <<: *celery\n  w2:\n    <<: *celery\n    environment:\n      Q: b\n",
    ),
    (
        "merge-sequence",
        "x-a: &a\n  image: app\nx-b: &b\n  command: [celery, -A, proj, worker]\nservices:\n  w:\n    <<: [*a, *b]\n",
        "x-a: &a\n  image: app\nx-b: &b\n  command: [celery, -A, proj, worker, --uid=nobody, --gid=nogroup]\nservices:\n  w:\n    <<: [*a, *b]\n",
    ),
    (
        "user-alias-root",
        "x-user: &u root\nservices:\n  w:\n    image: app\n    user: *u\n    command: celery -A proj worker\n",
        f"x-user: &u root\nservices:\n  w:\n    image: app\n    user: *u\n    command: celery -A proj worker {F}\n",
    ),
    (
        "override-tags",
        "services:\n  w:\n    image: app\n    ports: !reset []\n    command: !override celery -A proj worker\n",
        f"services:\n  w:\n    image: app\n    ports: !reset []\n    command: !override celery -A proj worker {F}\n",
    ),
    (
        "documents",
        "---\nservices:\n  w:\n    image: app\n    command: celery -A proj worker\n...\n",
        f"---\nservices:\n  w:\n    image: app\n    command: celery -A proj worker {F}\n...\n",
    ),
    (
        "no-final-newline",
        "services:\n  w:\n    image: app\n    command:\n      - celery\n      - worker",
        "services:\n  w:\n    image: app\n    command:\n      - celery\n      - worker\n      - --uid=nobody\n      - --gid=nogroup",
    ),
]


@pytest.mark.parametrize(
    ("before", "after"), [c[1:] for c in TRANSFORMED], ids=[c[0] for c in TRANSFORMED]
)
def test_transformed(tmp_path: Path, before: str, after: str) -> None:
    check_transformed(tmp_path, {"docker-compose.yml": before}, {"docker-compose.yml": after})


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    for index, (_, _, after) in enumerate(TRANSFORMED):
        check_noop(tmp_path / str(index), {"docker-compose.yml": after})


def test_bom_is_kept(tmp_path: Path) -> None:
    before = b"\xef\xbb\xbfservices:\n  w:\n    image: app\n    command: celery -A p worker\n"
    after = before.replace(b"worker", b"worker " + F.encode())
    check_transformed(tmp_path, {"docker-compose.yml": before}, {"docker-compose.yml": after})


def test_rhel_family_image_gets_group_nobody(tmp_path: Path) -> None:
    before = {
        "docker-compose.yml": "services:\n  w:\n    build:\n      context: .\n      dockerfile: docker/Dockerfile\n    command: celery -A p worker\n",
        "docker/Dockerfile": 'FROM registry.access.redhat.com/ubi9/python-311 AS base\nRUN pip install celery\nFROM base\nCMD ["true"]\n',
    }
    after = {
        "docker-compose.yml": before["docker-compose.yml"].replace(
            "worker", "worker --uid=nobody --gid=nobody"
        )
    }
    check_transformed(tmp_path, before, after)


def test_alpine_image_keeps_nogroup(tmp_path: Path) -> None:
    before = {
        "docker-compose.yml": "services:\n  w:\n    image: python:3.12-alpine\n    command: celery -A p worker\n"
    }
    after = {"docker-compose.yml": before["docker-compose.yml"].replace("worker", f"worker {F}")}
    check_transformed(tmp_path, before, after)


def test_uid_and_gid_options(tmp_path: Path) -> None:
    before = {
        "docker-compose.yml": "services:\n  w:\n    image: app\n    command: celery -A p worker\n"
    }
    after = {
        "docker-compose.yml": before["docker-compose.yml"].replace(
            "worker", "worker --uid=celery --gid=celery"
        )
    }
    check_transformed(tmp_path, before, after, uid="celery", gid="celery")


def test_override_file_is_fixed_where_the_command_is_written(tmp_path: Path) -> None:
    base = "services:\n  celery:\n    build: .\n    command: celery -A crm worker -l info\n  beat:\n    build: .\n    command: celery -A crm beat\n"
    override = "services:\n  celery:\n    restart: always\n    command: celery -A crm worker -l info --concurrency=4\n  beat:\n    restart: always\n"
    check_transformed(
        tmp_path,
        {"docker-compose.yml": base, "docker-compose.vds.yml": override},
        {
            "docker-compose.yml": base.replace("info\n", f"info {F}\n").replace(
                "beat\n", f"beat {F} --schedule=/tmp/celerybeat-schedule\n"
            ),
            "docker-compose.vds.yml": override.replace("=4\n", f"=4 {F}\n"),
        },
    )


def test_compose_file_in_subfolder(tmp_path: Path) -> None:
    before = "services:\n  jobs:\n    image: app\n    command: celery -A proj worker\n"
    check_transformed(
        tmp_path,
        {"deploy/compose.prod.yaml": before},
        {"deploy/compose.prod.yaml": before.replace("worker", f"worker {F}")},
    )


# (id, compose text, a fragment of the reported reason or None when nothing is reported)
LEFT_ALONE = [
    ("flower", "services:\n  celery:\n    image: app\n    command: celery -A proj flower\n", None),
    (
        "inspect",
        "services:\n  c:\n    image: app\n    command: celery -A proj inspect ping\n",
        None,
    ),
    (
        "healthcheck",
        "services:\n  c:\n    image: app\n    command: celery -A p worker --uid=nobody --gid=nogroup\n    healthcheck:\n      test: celery -A p inspect ping -d celery@$${HOSTNAME}\n",
        "already sets --uid",
    ),
    (
        "non-root-user",
        "services:\n  w:\n    image: app\n    user: app\n    command: celery -A proj worker\n",
        "non-root",
    ),
    (
        "numeric-user",
        'services:\n  w:\n    image: app\n    user: "1000:1000"\n    command: celery -A proj worker\n',
        "non-root",
    ),
    (
        "variable-user",
        "services:\n  w:\n    image: app\n    user: ${UID}\n    command: celery -A proj worker\n",
        "non-root",
    ),
    (
        "user-through-merge",
        'x-common: &common\n  image: app\n  user: "50000:0"\nservices:\n  w:\n    <<: *common\n    command: celery -A proj worker\n',
        "non-root",
    ),
    (
        "gosu",
        "services:\n  w:\n    image: app\n    command: gosu app celery -A proj worker\n",
        "gosu",
    ),
    (
        "su-exec",
        "services:\n  w:\n    image: app\n    command: su-exec app:app celery -A proj worker\n",
        "su-exec",
    ),
    (
        "uid-given",
        "services:\n  w:\n    image: app\n    command: celery -A proj worker --uid 1000\n",
        "already sets --uid",
    ),
    (
        "already-fixed-subcommand-first",
        "services:\n  w:\n    image: app\n    command: celery worker -A app --uid=nobody --gid=nogroup\n",
        "already sets --uid",
    ),
    (
        "detach",
        "services:\n  w:\n    image: app\n    command: celery -A proj worker -D\n",
        "detach",
    ),
    (
        "multi",
        "services:\n  w:\n    image: app\n    command: celery multi start w1 -A proj\n",
        "multi",
    ),
    (
        "lone-variable",
        "services:\n  w:\n    image: app\n    command: ${CELERY_COMMAND}\n",
        "variable",
    ),
    (
        "airflow",
        'x-airflow-common: &airflow-common\n  image: apache/airflow:2.9.0\n  user: "${AIRFLOW_UID:-50000}:0"\nservices:\n  airflow-worker:\n    <<: *airflow-common\n    command: celery worker\n',
        "airflow",
    ),
    (
        "nautobot",
        "services:\n  worker:\n    image: app\n    command: nautobot-server celery worker -l INFO\n",
        "nautobot-server",
    ),
    (
        "commented-out",
        "services:\n  web:\n    image: app\n#  celery:\n#    command: celery -A proj worker\n",
        None,
    ),
    (
        "jinja-template",
        "services:\n  celery:\n    image: {{ cookiecutter.project_slug }}\n    command: celery -A {{ cookiecutter.project_slug }} worker\n",
        "template",
    ),
    (
        "reset-command",
        "services:\n  w:\n    image: app\n    command: !reset null\n    environment:\n      X: celery\n",
        None,
    ),
]


@pytest.mark.parametrize(
    ("text", "reason"), [c[1:] for c in LEFT_ALONE], ids=[c[0] for c in LEFT_ALONE]
)
def test_left_alone(tmp_path: Path, text: str, reason: str | None) -> None:
    result = check_noop(tmp_path, {"docker-compose.yml": text})
    if reason is None:
        assert not [n for n in result.notes if n.rule.startswith("CF1")]
    else:
        assert reason in reasons(result)


def test_user_in_another_compose_file_of_the_folder(tmp_path: Path) -> None:
    result = check_noop(
        tmp_path,
        {
            "docker-compose.yml": "services:\n  worker:\n    build: .\n    command: celery -A p worker\n",
            "docker-compose.prod.yml": "services:\n  worker:\n    user: app\n",
        },
    )
    assert "user: app in docker-compose.prod.yml" in reasons(result)


def test_user_in_the_dockerfile(tmp_path: Path) -> None:
    result = check_noop(
        tmp_path,
        {
            "docker-compose.yml": "services:\n  worker:\n    build: ./backend\n    command: celery -A p worker\n",
            "backend/Dockerfile": "FROM python:3.12-slim\nRUN useradd django\nUSER django\n",
        },
    )
    assert "USER django in backend/Dockerfile" in reasons(result)


def test_anchor_shared_with_a_non_root_service_is_reported(tmp_path: Path) -> None:
    text = "x-c: &c\n  image: app\n  command: celery -A p worker\nservices:\n  a:\n    <<: *c\n  b:\n    <<: *c\n    user: app\n"
    result = check_noop(tmp_path, {"docker-compose.yml": text})
    assert "shared" in reasons(result)


def test_invalid_yaml_is_an_error(tmp_path: Path) -> None:
    from repo_helpers import write_repo

    from celeryfix.config import resolve_options
    from celeryfix.engine import plan_repository

    write_repo(tmp_path, {"docker-compose.yml": "services:\n  w:\n    command: [celery, worker\n"})
    result = plan_repository(tmp_path, resolve_options(tmp_path, {}))
    assert (
        result.error is not None and "docker-compose.yml:" in result.error and result.changes == []
    )


def test_broken_sibling_compose_file_is_a_note_not_an_error(tmp_path: Path) -> None:
    base = "services:\n  w:\n    image: app\n    command: celery -A p worker\n"
    result = check_transformed(
        tmp_path,
        {"docker-compose.yml": base, "docker-compose.override.yml": "services:\n  w: [broken\n"},
        {"docker-compose.yml": base.replace("worker", f"worker {F}")},
    )
    assert "docker-compose.override.yml" in {n.path for n in result.notes}


def test_template_sibling_is_ignored(tmp_path: Path) -> None:
    base = "services:\n  w:\n    image: app\n    command: celery -A p worker\n"
    template = "services:\n  w:\n    image: {{ cookiecutter.slug }}\n"
    result = check_transformed(
        tmp_path,
        {"docker-compose.yml": base, "compose.tmpl.yml": template},
        {"docker-compose.yml": base.replace("worker", f"worker {F}")},
    )
    assert not result.notes


def test_extends_is_fixed_where_the_command_is_written_and_reported(tmp_path: Path) -> None:
    common = "services:\n  worker-base:\n    image: app\n    command: celery -A p worker\n"
    compose = (
        "services:\n  worker:\n    extends:\n      file: common.yml\n      service: worker-base\n"
    )
    result = check_transformed(
        tmp_path,
        {
            "docker-compose.yml": compose,
            "deploy/common.yml": common,
            "docker-compose.common.yml": common,
        },
        {"docker-compose.common.yml": common.replace("worker\n", f"worker {F}\n")},
    )
    assert "runs the command of service `worker-base` of common.yml (extends)" in reasons(result)


def test_include_of_a_file_celeryfix_does_not_read_is_reported(tmp_path: Path) -> None:
    compose = "include:\n  - celery/workers.yml\nservices:\n  web:\n    image: app\n    command: celery -A p flower\n"
    result = check_noop(
        tmp_path, {"docker-compose.yml": compose, "celery/workers.yml": "services: {}\n"}
    )
    assert "`include: celery/workers.yml` is not read" in reasons(result)
