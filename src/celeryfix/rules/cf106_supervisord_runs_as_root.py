"""CF106: a Celery worker or beat started by a supervisord program runs as root."""

from celeryfix.rule import Example, FileKind, Rule, Safety
from celeryfix.rules import register

RULE = register(
    Rule(
        id="CF106",
        name="supervisord-runs-as-root",
        summary="Add --uid=nobody --gid=nogroup to celery worker/beat supervisord programs.",
        safety=Safety.SAFE,
        reads=FileKind.SUPERVISORD,
        docs="""\
## Why
supervisord runs as root in most containers and on most servers, and starts every program as
root unless the program says otherwise: the worker prints Celery's superuser warning and runs
every task as root.

## Which files
`*.conf`, `*.ini` and `*.cfg` files, and any file whose path names `supervisor`, that have a
`[program:NAME]` section and mention Celery, read as supervisord reads them: Python's configparser with `;` and
`#` inline comments (after a space), indented continuation lines joined to the value, `%%` for a
literal `%` and `%(ENV_X)s` references (kept as written: their value is unknown), and the
command split by `shlex.split` (no shell, unless the command runs one: `bash -c '...'`).

## What it changes
The `command=` of each program that runs `celery ... worker` or `celery ... beat` gets
`--uid=nobody --gid=nogroup` at the end of the invocation, on the line where its last word is
written (a continuation line, before an inline `; comment`, inside a `bash -c '...'` script);
beat also gets `--schedule=/tmp/celerybeat-schedule` unless its schedule is kept elsewhere (as
CF102). The edited file is read again with configparser: every value other than the edited
commands must be unchanged, or nothing of the file is changed.

## What it leaves alone (and reports)
A program with `user=` set to anyone but root, or any program of a file whose `[supervisord]`
section sets a non-root `user=` (the daemon switches to it before starting programs): `--uid`
would crash the worker with `PermissionError: [Errno 1] Operation not permitted`. Commands that
already drop root (`--uid`/`--gid`, `gosu`, `su-exec`, `s6-setuidgid`, `setpriv`, `chpst -u`),
detached workers and `celery multi`, `<tool> celery ...` wrappers, files that configparser
refuses, Jinja templates. A `[supervisord] user=` in another file that `[include]`s this one is
not followed, and neither is the user that starts supervisord itself (a Dockerfile's `USER`):
exclude the file if supervisord runs as non-root there.
""",
        examples=(
            Example(
                "deploy/supervisord.conf",
                "[program:worker]\ncommand=celery -A proj worker -l info\nautorestart=true\n",
                "[program:worker]\ncommand=celery -A proj worker -l info --uid=nobody --gid=nogroup\nautorestart=true\n",
            ),
        ),
    )
)
