"""CF102: a Celery beat started by a compose file runs as root."""

from celeryfix.rule import Example, FileKind, Rule, Safety
from celeryfix.rules import register

RULE = register(
    Rule(
        id="CF102",
        name="beat-runs-as-root",
        summary="Add --uid=nobody --gid=nogroup (and a writable --schedule) to celery beat commands.",
        safety=Safety.SAFE,
        reads=FileKind.COMPOSE,
        docs="""\
## Why
Beat prints no warning as root, but it runs as root all the same. Dropped to `nobody` in a
root-owned working folder it dies on its default schedule file: `Removing corrupted schedule
file 'celerybeat-schedule': error(13, 'Permission denied')`, then CRITICAL and exit 1.

## What it changes
Every `celery ... beat` invocation (and a worker with `-B/--beat`) gets `--uid=nobody
--gid=nogroup`, like CF101, and, unless the command already sets `-s/--schedule` (worker:
`-s/--schedule-filename`) or uses a scheduler that keeps no file (django-celery-beat's
`DatabaseScheduler`, `redbeat.RedBeatScheduler`, also when `CELERY_BEAT_SCHEDULER` says so in
the settings), `--schedule=/tmp/celerybeat-schedule` (configurable: `schedule` in
`[tool.celeryfix]`).

## What it leaves alone (and reports)
The same cases as CF101: non-root services, commands that already drop root, detached beat,
unknown `${VARIABLE}` commands, wrappers that are not Celery, templates.
""",
        examples=(
            Example(
                "docker-compose.yml",
                "services:\n  celery-beat:\n    build: .\n    command: celery -A proj beat -l info\n",
                "services:\n  celery-beat:\n    build: .\n    command: celery -A proj beat -l info --uid=nobody --gid=nogroup --schedule=/tmp/celerybeat-schedule\n",
            ),
        ),
    )
)
