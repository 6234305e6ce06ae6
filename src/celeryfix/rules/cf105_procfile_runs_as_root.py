"""CF105: a Celery worker or beat started by a Procfile or Render's render.yaml runs as root."""

from celeryfix.rule import Example, FileKind, Rule, Safety
from celeryfix.rules import register

RULE = register(
    Rule(
        id="CF105",
        name="procfile-runs-as-root",
        summary="Add --uid=nobody --gid=nogroup to celery worker/beat in Procfiles and render.yaml.",
        safety=Safety.UNSAFE,
        reads=FileKind.PROCFILE,
        docs="""\
## Why it is unsafe (runs only when selected: `--select CF105`)
Heroku dynos already run as a non-root user. There `--uid` does not drop anything: Celery's
`setuid` fails and the worker dies at start with `PermissionError: [Errno 1] Operation not
permitted`. Dokku and other Procfile platforms may do the same, and on Render a native runtime
decides who runs `startCommand`. The flags help only where a Procfile runs as root: honcho or
foreman inside a container started as root, a Render Docker service whose image keeps root.

## What it does when not selected
Nothing is changed. Every worker and beat it would fix is reported (a `skip` note at its line)
with the reason above and the exact options `--select CF105` would add. `--ignore CF105`, or a
`--select` that names only other rules, silences these notes.

## What it changes when selected
- Procfiles (`Procfile`, `Procfile.dev`, ... in any folder): each `name: command` line is read as
  the shell reads it. `worker: celery -A proj worker`, an environment prefix (`REMAP_SIGTERM=SIGQUIT
  celery ...`), `bash -c '... && celery ...'` scripts (the options go inside the quotes),
  wrappers (`newrelic-admin run-program`, `exec`, `env`). Commented-out lines (`# worker: ...`)
  are not process lines and are never edited; CRLF lines keep their `\\r`.
- render.yaml (`services:`, also under `projects:`/`environments:`): the `startCommand` and
  `dockerCommand` values, in any YAML scalar style, byte-exact. A Docker service whose Dockerfile
  (`dockerfilePath`, default `Dockerfile` under `rootDir`) ends with a non-root `USER` is left
  alone; its base image chooses the group (`nobody` on RHEL-family images).
The options go at the end of the celery invocation; beat also gets
`--schedule=/tmp/celerybeat-schedule` unless its schedule is kept elsewhere (as CF102). Each
edited line or value is parsed again: the Procfile line as a shell command, render.yaml as YAML;
any other difference drops the file's edits with a note.

## What it leaves alone (and reports)
Commands that already drop root (`--uid`/`--gid`, `gosu`, `su-exec`, `s6-setuidgid`, `setpriv`,
`chpst -u`, `su -c`), detached workers and `celery multi`, `<tool> celery ...` wrappers that are
not Celery, lines with an unterminated quote, Jinja-templated files. A process that runs a start
script (`worker: bin/start-worker`) is CF103's: that script is treated as run by a non-root user.
""",
        examples=(
            Example(
                "Procfile",
                "web: gunicorn proj.wsgi\nworker: celery -A proj worker -l info\n",
                "web: gunicorn proj.wsgi\nworker: celery -A proj worker -l info --uid=nobody --gid=nogroup\n",
            ),
        ),
    )
)
