"""CF101: a Celery worker started by a compose file runs as root."""

from celeryfix.rule import Example, FileKind, Rule, Safety
from celeryfix.rules import register

RULE = register(
    Rule(
        id="CF101",
        name="worker-runs-as-root",
        summary="Add --uid=nobody --gid=nogroup to celery worker commands in compose files.",
        safety=Safety.SAFE,
        reads=FileKind.COMPOSE,
        docs="""\
## Why
A worker started as root prints `SecurityWarning: You're running the worker with superuser
privileges: this is absolutely not recommended!` and runs every task as root. `--uid`/`--gid`
make Celery drop to an unprivileged user right after start-up.

## What it changes
Every `celery ... worker` invocation that a compose service runs (`entrypoint` + `command`, string
or list form, also inside `sh -c` scripts and behind `exec`, `env`, `dumb-init`, `tini --`,
`watchmedo ... --`) gets `--uid=nobody --gid=nogroup` at the end of the invocation, before any
`&&`, `;`, `|` or redirection. The group is `nobody` on RHEL-family images (UBI, CentOS, Fedora,
Rocky, Alma, Amazon Linux), which have no `nogroup`. `--uid`/`--gid` and `[tool.celeryfix]`
override both. A worker with `-B` also gets the beat schedule fix of CF102.

## What it leaves alone (and reports)
A service that already runs as non-root (`user:` in any compose file of the folder, or `USER` in
its Dockerfile): `--uid` would crash it with `PermissionError`. Commands that already drop root
(`--uid`/`--gid`, `gosu`, `su-exec`, `setpriv`, `runuser`, `chpst -u`, `s6-setuidgid`, `su -c`).
Detached workers (`-D`) and `celery multi`. A command that is one unknown `${VARIABLE}`.
`<tool> celery ...` wrappers that are not Celery (Airflow, Nautobot). Templates (Jinja).
Never `flower`, `inspect`, `events`, `shell`, `call` or healthchecks.
""",
        examples=(
            Example(
                "docker-compose.yml",
                "services:\n  celery:\n    build: .\n    command: celery -A proj worker -l info\n",
                "services:\n  celery:\n    build: .\n    command: celery -A proj worker -l info --uid=nobody --gid=nogroup\n",
            ),
        ),
    )
)
