"""CF106: celery worker/beat supervisord programs get --uid=nobody --gid=nogroup.

Each transformed case is a before/after pair compared byte for byte, then read again as
supervisord reads it: configparser with supervisord's settings (every section and value equal
but `command=`), the command `%`-expanded and split with shlex, and every edited celery
invocation handed to Celery's own click parser.
"""

from __future__ import annotations

import configparser
import shlex
from collections import defaultdict
from pathlib import Path

import pytest
from oracles.compose_loader import celery_argvs
from repo_helpers import check_left_alone, check_noop, check_transformed
from rules.test_cf105_procfile_runs_as_root import check_celery_sees_only_the_flags

from celeryfix.rules.cf106_supervisord_runs_as_root import RULE

F = "--uid=nobody --gid=nogroup"
S = "--schedule=/tmp/celerybeat-schedule"
PATH = "deploy/supervisord.conf"

# (id, before, after)
TRANSFORMED = [
    (
        "plain",
        "[program:worker]\ncommand=celery -A proj worker -l info\nautostart=true\n",
        f"[program:worker]\ncommand=celery -A proj worker -l info {F}\nautostart=true\n",
    ),
    (
        "spaces-around-equals",
        "[program:worker]\ncommand = celery -A proj worker\ndirectory = /app\n",
        f"[program:worker]\ncommand = celery -A proj worker {F}\ndirectory = /app\n",
    ),
    (
        "colon-delimiter-and-capitals",
        "[program:worker]\nCommand: /app/.venv/bin/celery --app=proj worker\n",
        f"[program:worker]\nCommand: /app/.venv/bin/celery --app=proj worker {F}\n",
    ),
    (
        "inline-semicolon-comment",
        "[program:worker]\ncommand=celery -A proj worker -l info ; the worker\n",
        f"[program:worker]\ncommand=celery -A proj worker -l info {F} ; the worker\n",
    ),
    (
        "inline-hash-comment",
        "[program:worker]\ncommand=celery -A proj worker\t# the worker\n",
        f"[program:worker]\ncommand=celery -A proj worker {F}\t# the worker\n",
    ),
    (
        "semicolon-inside-a-word-is-not-a-comment",
        "[program:worker]\ncommand=celery -A proj worker -Q a;b\n",
        f"[program:worker]\ncommand=celery -A proj worker -Q a;b {F}\n",
    ),
    (
        "continuation-lines",
        "[program:worker]\ncommand=celery -A proj\n    worker\n    -l info   ; level\n\nautorestart=true\n",
        f"[program:worker]\ncommand=celery -A proj\n    worker\n    -l info {F}   ; level\n\nautorestart=true\n",
    ),
    (
        "percent-escape",
        "[program:worker]\ncommand=celery -A proj worker -n worker@%%h\n",
        f"[program:worker]\ncommand=celery -A proj worker -n worker@%%h {F}\n",
    ),
    (
        "environment-expansions",
        "[program:worker]\ncommand=celery -A %(ENV_APP)s worker -l %(ENV_LEVEL)s\n",
        f"[program:worker]\ncommand=celery -A %(ENV_APP)s worker -l %(ENV_LEVEL)s {F}\n",
    ),
    (
        "bash-c",
        '[program:worker]\ncommand=bash -c "cd /app && exec celery -A proj worker -l %(ENV_LEVEL)s"\n',
        f'[program:worker]\ncommand=bash -c "cd /app && exec celery -A proj worker -l %(ENV_LEVEL)s {F}"\n',
    ),
    (
        "beat-and-worker",
        "[supervisord]\nnodaemon=true\n\n[program:worker]\ncommand=celery -A proj worker\n\n[program:beat]\ncommand=celery -A proj beat\n\n[program:web]\ncommand=gunicorn proj.wsgi\n",
        f"[supervisord]\nnodaemon=true\n\n[program:worker]\ncommand=celery -A proj worker {F}\n\n[program:beat]\ncommand=celery -A proj beat {F} {S}\n\n[program:web]\ncommand=gunicorn proj.wsgi\n",
    ),
    (
        "user-root",
        "[program:worker]\nuser=root\ncommand=celery -A proj worker\n",
        f"[program:worker]\nuser=root\ncommand=celery -A proj worker {F}\n",
    ),
    (
        "crlf",
        "[program:worker]\r\ncommand=celery -A proj worker\r\n    -l info\r\nautostart=true\r\n",
        f"[program:worker]\r\ncommand=celery -A proj worker\r\n    -l info {F}\r\nautostart=true\r\n",
    ),
    (
        "no-final-newline",
        "[program:worker]\ncommand=celery -A proj worker",
        f"[program:worker]\ncommand=celery -A proj worker {F}",
    ),
]


@pytest.mark.parametrize(
    ("before", "after"), [c[1:] for c in TRANSFORMED], ids=[c[0] for c in TRANSFORMED]
)
def test_transformed(tmp_path: Path, before: str, after: str) -> None:
    check_transformed(tmp_path, {PATH: before}, {PATH: after})
    old, new = read_as_supervisord(before), read_as_supervisord(after)
    assert {name: {k: v for k, v in o.items() if k != "command"} for name, o in old.items()} == {
        name: {k: v for k, v in o.items() if k != "command"} for name, o in new.items()
    }
    check_celery_sees_only_the_flags(_celery_argvs(old), _celery_argvs(new))


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    for index, (_, _, after) in enumerate(TRANSFORMED):
        check_noop(tmp_path / str(index), {PATH: after})


def test_examples(tmp_path: Path) -> None:
    for index, example in enumerate(RULE.examples):
        check_transformed(
            tmp_path / str(index), {example.path: example.before}, {example.path: example.after}
        )


def test_other_file_names(tmp_path: Path) -> None:
    before = "[program:celery]\ncommand=celery -A proj worker\n"
    files = {"conf.d/celery.ini": before, "etc/supervisor/celery": before, "x/app.cfg": before}
    after = before.replace("worker", f"worker {F}")
    check_transformed(tmp_path, dict(files), dict.fromkeys(files, after))


# (id, text, a fragment of the reported reason or None when nothing is reported)
LEFT_ALONE = [
    (
        "program-user",
        "[program:worker]\ncommand=celery -A proj worker\nuser=celery\n",
        "user=celery in [program:worker]",
    ),
    (
        "daemon-user",
        "[supervisord]\nuser=app\n\n[program:worker]\ncommand=celery -A proj worker\n",
        "user=app in [supervisord]",
    ),
    (
        "user-from-environment",
        "[program:worker]\ncommand=celery -A proj worker\nuser=%(ENV_RUN_AS)s\n",
        "non-root",
    ),
    (
        "already-fixed",
        f"[program:worker]\ncommand=celery -A proj worker {F}\n",
        "already sets --uid",
    ),
    ("gosu", "[program:worker]\ncommand=gosu app celery -A proj worker\n", "gosu"),
    ("detach", "[program:worker]\ncommand=celery -A proj worker -D\n", "detach"),
    ("flower", "[program:flower]\ncommand=celery -A proj flower\n", None),
    ("commented-out", "[program:worker]\n;command=celery -A proj worker\n", None),
    ("not-a-program", "[eventlistener:x]\ncommand=celery -A proj worker\n[program:y]\n", None),
    ("unclosed-quote", "[program:worker]\ncommand=celery -A 'proj worker\n", "cannot be split"),
    ("no-section", "command=celery -A proj worker\n[program:worker]\n", "would not read"),
    ("template", "[program:worker]\ncommand=celery -A {{ app }} worker\n", "template"),
]


@pytest.mark.parametrize(
    ("text", "reason"), [c[1:] for c in LEFT_ALONE], ids=[c[0] for c in LEFT_ALONE]
)
def test_left_alone(tmp_path: Path, text: str, reason: str | None) -> None:
    check_left_alone(tmp_path, {PATH: text}, "CF106", reason)


def test_not_a_supervisord_file(tmp_path: Path) -> None:
    result = check_noop(
        tmp_path,
        {
            "nginx.conf": "# celery flower behind nginx\nlocation / { proxy_pass http://flower; }\n",
            "notes.txt": "[program:worker]\ncommand=celery -A proj worker\n",
        },
    )
    assert not [n for n in result.notes if n.rule == "CF106"]


def test_ignored(tmp_path: Path) -> None:
    check_noop(tmp_path, {PATH: TRANSFORMED[0][1]}, ignore=["CF106"])


# --- oracle --------------------------------------------------------------------------------------


def read_as_supervisord(text: str) -> dict[str, dict[str, str]]:
    """Every section and option as supervisord's parser reads them (supervisor.options
    UnhosedConfigParser: RawConfigParser, inline comments `;`/`#`, strict off)."""
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    parser.read_string(text)
    return {name: dict(parser.items(name)) for name in parser.sections()}


def _expand(command: str, name: str) -> str:
    """supervisord's `expand`: the `%` operator with its expansions (ENV_ from a test env)."""
    expansions: defaultdict[str, object] = defaultdict(lambda: "x")
    expansions.update(
        ENV_APP="proj", ENV_LEVEL="info", program_name=name, process_num=0, numprocs=1
    )
    return command % expansions


def _celery_argvs(sections: dict[str, dict[str, str]]) -> list[list[str]]:
    return [
        argv
        for name, options in sections.items()
        if name.startswith("program:") and "command" in options
        for argv in celery_argvs(shlex.split(_expand(options["command"], name)))
    ]
