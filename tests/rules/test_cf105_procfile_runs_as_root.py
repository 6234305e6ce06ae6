"""CF105 (unsafe): Procfiles and render.yaml — reported by default, fixed when selected.

Each transformed case is a before/after pair compared byte for byte, then read again the way
the platform reads it (the Procfile line by a shell, render.yaml by ruamel.yaml) and every
edited invocation handed to Celery's own click parser: uid/gid (and the schedule) as intended,
everything else unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from oracles.celery_cli import parse_with_celery
from oracles.compose_loader import celery_argvs
from repo_helpers import check_left_alone, check_noop, check_transformed, reasons
from ruamel.yaml import YAML

from celeryfix.rules.cf105_procfile_runs_as_root import RULE

F = "--uid=nobody --gid=nogroup"
S = "--schedule=/tmp/celerybeat-schedule"
SELECT = {"select": ["CF105"]}

# (id, before, after) for a Procfile
PROCFILE_CASES = [
    (
        "plain",
        "web: gunicorn proj.wsgi\nworker: celery -A proj worker -l info\n",
        f"web: gunicorn proj.wsgi\nworker: celery -A proj worker -l info {F}\n",
    ),
    (
        "environment-prefix",
        "worker: REMAP_SIGTERM=SIGQUIT celery -A proj worker -l info\n",
        f"worker: REMAP_SIGTERM=SIGQUIT celery -A proj worker -l info {F}\n",
    ),
    (
        "bash-c-chain",
        "worker: bash -c 'python manage.py migrate && celery -A proj worker -l info'\n",
        f"worker: bash -c 'python manage.py migrate && celery -A proj worker -l info {F}'\n",
    ),
    (
        "sh-c-double-quotes-then-more",
        'worker: sh -c "celery -A proj worker -l info; echo stopped"\n',
        f'worker: sh -c "celery -A proj worker -l info {F}; echo stopped"\n',
    ),
    (
        "beat",
        "beat: celery -A proj beat -l info\n",
        f"beat: celery -A proj beat -l info {F} {S}\n",
    ),
    (
        "worker-with-embedded-beat",
        "worker: celery -A proj worker -B -l info\n",
        f"worker: celery -A proj worker -B -l info {F} --schedule-filename=/tmp/celerybeat-schedule\n",
    ),
    (
        "wrapper",
        "worker: newrelic-admin run-program celery -A proj worker --concurrency=2\n",
        f"worker: newrelic-admin run-program celery -A proj worker --concurrency=2 {F}\n",
    ),
    (
        "commands-in-sequence",
        "worker: python manage.py check; exec celery --app=proj worker\n",
        f"worker: python manage.py check; exec celery --app=proj worker {F}\n",
    ),
    (
        "commented-line-never-edited",
        "# worker: celery -A proj worker\nworker: celery -A proj worker -Q mail\n",
        f"# worker: celery -A proj worker\nworker: celery -A proj worker -Q mail {F}\n",
    ),
    (
        "spaces-around",
        "worker:    celery -A proj worker   \n",
        f"worker:    celery -A proj worker {F}   \n",
    ),
    (
        "crlf",
        "web: gunicorn proj.wsgi\r\nworker: celery -A proj worker\r\nbeat: celery -A proj beat\r\n",
        f"web: gunicorn proj.wsgi\r\nworker: celery -A proj worker {F}\r\nbeat: celery -A proj beat {F} {S}\r\n",
    ),
    (
        "no-final-newline",
        "worker: celery -A proj worker",
        f"worker: celery -A proj worker {F}",
    ),
]

# (id, before, after) for render.yaml
RENDER_CASES = [
    (
        "start-command",
        "services:\n  - type: worker\n    name: celery\n    runtime: python\n    buildCommand: pip install -r requirements.txt\n    startCommand: celery -A proj worker -l info\n",
        f"services:\n  - type: worker\n    name: celery\n    runtime: python\n    buildCommand: pip install -r requirements.txt\n    startCommand: celery -A proj worker -l info {F}\n",
    ),
    (
        "docker-command-quoted",
        'services:\n  - type: worker\n    name: celery\n    runtime: docker\n    dockerCommand: "celery -A proj worker"  # the worker\n',
        f'services:\n  - type: worker\n    name: celery\n    runtime: docker\n    dockerCommand: "celery -A proj worker {F}"  # the worker\n',
    ),
    (
        "folded-bash-c-beat",
        "services:\n  - type: worker\n    name: beat\n    env: python\n    startCommand: >-\n      bash -c 'python manage.py migrate &&\n      celery -A proj beat -l info'\n",
        f"services:\n  - type: worker\n    name: beat\n    env: python\n    startCommand: >-\n      bash -c 'python manage.py migrate &&\n      celery -A proj beat -l info {F} {S}'\n",
    ),
    (
        "projects-environments",
        "projects:\n  - name: shop\n    environments:\n      - name: production\n        services:\n          - type: worker\n            name: jobs\n            runtime: python\n            startCommand: celery -A shop worker\n",
        f"projects:\n  - name: shop\n    environments:\n      - name: production\n        services:\n          - type: worker\n            name: jobs\n            runtime: python\n            startCommand: celery -A shop worker {F}\n",
    ),
    (
        "crlf",
        "services:\r\n  - type: worker\r\n    name: w\r\n    runtime: python\r\n    startCommand: celery -A proj worker\r\n",
        f"services:\r\n  - type: worker\r\n    name: w\r\n    runtime: python\r\n    startCommand: celery -A proj worker {F}\r\n",
    ),
]


@pytest.mark.parametrize(
    ("before", "after"), [c[1:] for c in PROCFILE_CASES], ids=[c[0] for c in PROCFILE_CASES]
)
def test_procfile_transformed_when_selected(tmp_path: Path, before: str, after: str) -> None:
    check_transformed(tmp_path, {"Procfile": before}, {"Procfile": after}, **SELECT)
    check_celery_sees_only_the_flags(_procfile_argvs(before), _procfile_argvs(after))


@pytest.mark.parametrize(
    ("before", "after"), [c[1:] for c in RENDER_CASES], ids=[c[0] for c in RENDER_CASES]
)
def test_render_transformed_when_selected(tmp_path: Path, before: str, after: str) -> None:
    check_transformed(tmp_path, {"render.yaml": before}, {"render.yaml": after}, **SELECT)
    old, new = _render_commands(before), _render_commands(after)
    assert _without_commands(_load(before)) == _without_commands(_load(after))
    check_celery_sees_only_the_flags(
        [a for c in old for a in celery_argvs(["sh", "-c", c])],
        [a for c in new for a in celery_argvs(["sh", "-c", c])],
    )


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    for index, (_, _, after) in enumerate(PROCFILE_CASES):
        check_noop(tmp_path / f"p{index}", {"Procfile": after}, **SELECT)
    for index, (_, _, after) in enumerate(RENDER_CASES):
        check_noop(tmp_path / f"r{index}", {"render.yaml": after}, **SELECT)


def test_procfile_in_a_subfolder_and_named_variants(tmp_path: Path) -> None:
    before = {
        "backend/Procfile": "worker: celery -A proj worker\n",
        "Procfile.dev": "beat: celery -A proj beat -S django_celery_beat.schedulers:DatabaseScheduler\n",
    }
    check_transformed(
        tmp_path,
        before,
        {
            "backend/Procfile": f"worker: celery -A proj worker {F}\n",
            "Procfile.dev": f"beat: celery -A proj beat -S django_celery_beat.schedulers:DatabaseScheduler {F}\n",
        },
        **SELECT,
    )


def test_render_docker_service_group_from_its_dockerfile(tmp_path: Path) -> None:
    blueprint = "services:\n  - type: worker\n    name: w\n    runtime: docker\n    dockerfilePath: ./docker/Dockerfile\n    dockerCommand: celery -A proj worker\n"
    check_transformed(
        tmp_path,
        {
            "render.yaml": blueprint,
            "docker/Dockerfile": 'FROM registry.access.redhat.com/ubi9/python-311\nCMD ["true"]\n',
        },
        {
            "render.yaml": blueprint.replace(
                "proj worker\n", "proj worker --uid=nobody --gid=nobody\n"
            )
        },
        **SELECT,
    )


def test_examples(tmp_path: Path) -> None:
    for index, example in enumerate(RULE.examples):
        check_transformed(
            tmp_path / str(index),
            {example.path: example.before},
            {example.path: example.after},
            **SELECT,
        )


# --- not selected: reported, never changed -----------------------------------------------------


def test_reported_by_default_with_the_reason_and_how_to_opt_in(tmp_path: Path) -> None:
    before = "web: gunicorn proj.wsgi\nworker: celery -A proj worker\nbeat: celery -A proj beat\n"
    result = check_noop(tmp_path, {"Procfile": before})
    notes = [n for n in result.notes if n.rule == "CF105"]
    assert [(n.line, n.kind.value) for n in notes] == [(2, "skip"), (3, "skip")]
    assert "PermissionError: [Errno 1] Operation not permitted" in notes[0].message
    assert f"`celeryfix --select CF105` adds `{F}`" in notes[0].message
    assert f"adds `{F} {S}`" in notes[1].message


def test_render_reported_by_default(tmp_path: Path) -> None:
    result = check_noop(tmp_path, {"render.yaml": RENDER_CASES[0][1]})
    assert "--select CF105" in reasons(result) and "Render" in reasons(result)


@pytest.mark.parametrize(
    "cli",
    [{"ignore": ["CF105"]}, {"select": ["CF201"]}, {"ignore": ["CF1"]}],
    ids=["ignored", "other-rule-selected", "prefix-ignored"],
)
def test_silent_when_ignored_or_not_wanted(tmp_path: Path, cli: dict[str, Any]) -> None:
    result = check_noop(tmp_path, {"Procfile": "worker: celery -A proj worker\n"}, **cli)
    assert not [n for n in result.notes if n.rule == "CF105"]


def test_a_prefix_or_all_reports_but_never_opts_in(tmp_path: Path) -> None:
    for index, selector in enumerate(("CF1", "ALL")):
        result = check_noop(
            tmp_path / str(index),
            {"Procfile": "worker: celery -A proj worker\n"},
            select=[selector],
        )
        assert "--select CF105" in reasons(result)


# --- selected, and still left alone -------------------------------------------------------------

# (id, files, a fragment of the reported reason or None when nothing is reported)
LEFT_ALONE: list[tuple[str, dict[str, str], str | None]] = [
    ("already-fixed", {"Procfile": f"worker: celery -A proj worker {F}\n"}, "already sets --uid"),
    ("gosu", {"Procfile": "worker: gosu app celery -A proj worker\n"}, "gosu"),
    ("detach", {"Procfile": "worker: celery -A proj worker --detach\n"}, "detach"),
    ("multi", {"Procfile": "worker: celery multi start w1 -A proj\n"}, "multi"),
    ("flower", {"Procfile": "flower: celery -A proj flower\n"}, None),
    ("only-commented", {"Procfile": "# worker: celery -A proj worker\n"}, None),
    ("script", {"Procfile": "worker: bin/start-celery\n"}, None),
    ("not-a-process-line", {"Procfile": "celery -A proj worker\n"}, None),
    ("wrapper-cli", {"Procfile": "worker: nautobot-server celery worker\n"}, "nautobot-server"),
    ("unterminated-quote", {"Procfile": "worker: bash -c 'celery -A proj worker\n"}, "reliably"),
    (
        "template",
        {"Procfile": "worker: celery -A {{ cookiecutter.slug }} worker\n"},
        "template",
    ),
    (
        "render-docker-user",
        {
            "render.yaml": "services:\n  - type: worker\n    name: w\n    runtime: docker\n    dockerCommand: celery -A proj worker\n",
            "Dockerfile": "FROM python:3.12-slim\nRUN useradd app\nUSER app\n",
        },
        "USER app in Dockerfile",
    ),
    (
        "render-invalid-yaml",
        {"render.yaml": "services:\n  - startCommand: [celery worker\n"},
        "not valid YAML",
    ),
    (
        "render-build-command",
        {"render.yaml": "services:\n  - name: w\n    buildCommand: celery -A proj worker\n"},
        None,
    ),
]


@pytest.mark.parametrize(
    ("files", "reason"), [c[1:] for c in LEFT_ALONE], ids=[c[0] for c in LEFT_ALONE]
)
def test_left_alone_when_selected(
    tmp_path: Path, files: dict[str, str], reason: str | None
) -> None:
    check_left_alone(tmp_path, dict(files), "CF105", reason, **SELECT)


# --- oracles -----------------------------------------------------------------------------------


def check_celery_sees_only_the_flags(old: list[list[str]], new: list[list[str]]) -> None:
    """Celery's click parser on every edited invocation: the subcommand, the global options
    and the other arguments unchanged; uid/gid (and the schedule) as intended. The old order
    (`celery worker -A app`, fine on Celery 4) is read with the app option moved first."""
    assert len(old) == len(new) >= 1
    edited = 0
    for old_argv, new_argv in zip(old, new, strict=True):
        if old_argv == new_argv:
            continue
        edited += 1
        was = parse_with_celery(celery5_order(old_argv))
        now = parse_with_celery(celery5_order(new_argv))
        assert now["subcommand"] == was["subcommand"] in {"worker", "beat"}
        assert now["global"] == was["global"] and now["args"] == was["args"]
        changed = {k for k in now["params"] if now["params"][k] != was["params"][k]}
        assert {"uid", "gid"} <= changed <= {"uid", "gid", "schedule", "schedule_filename"}
        assert now["params"]["uid"] == "nobody"
        assert now["params"]["gid"] in {"nogroup", "nobody"}
        for key in changed - {"uid", "gid"}:
            assert now["params"][key] == "/tmp/celerybeat-schedule"
    assert edited >= 1


def celery5_order(argv: list[str]) -> list[str]:
    """`worker -A app ...` (the old order) as `-A app worker ...`: Celery 5 wants -A first."""
    if argv and not argv[0].startswith("-"):
        for index, word in enumerate(argv):
            if word in ("-A", "--app") and index + 1 < len(argv):
                return [word, argv[index + 1], *argv[:index], *argv[index + 2 :]]
            if word.startswith("--app="):
                return [word, *argv[:index], *argv[index + 1 :]]
    return argv


_PROCESS = re.compile(r"([A-Za-z0-9_-]+):\s*(.+)")


def _procfile_argvs(text: str) -> list[list[str]]:
    """The celery argvs of a Procfile, its lines read the way honcho reads them."""
    found: list[list[str]] = []
    for line in text.splitlines():
        match = _PROCESS.fullmatch(line)
        if match:
            found += celery_argvs(["sh", "-c", match.group(2)])
    return found


def _load(text: str) -> Any:
    return YAML(typ="safe").load(text)


def _services(data: Any) -> list[dict[str, Any]]:
    found = list(data.get("services") or [])
    for project in data.get("projects") or []:
        for environment in project.get("environments") or []:
            found += environment.get("services") or []
    return found


def _render_commands(text: str) -> list[str]:
    return [
        service[key]
        for service in _services(_load(text))
        for key in ("startCommand", "dockerCommand")
        if key in service
    ]


def _without_commands(data: Any) -> Any:
    for service in _services(data):
        service.pop("startCommand", None)
        service.pop("dockerCommand", None)
    return data
