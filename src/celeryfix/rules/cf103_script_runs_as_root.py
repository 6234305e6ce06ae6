"""CF103: a Celery worker or beat started by a shell start script runs as root."""

from celeryfix.rule import Example, FileKind, Rule, Safety
from celeryfix.rules import register

RULE = register(
    Rule(
        id="CF103",
        name="script-runs-as-root",
        summary="Add --uid=nobody --gid=nogroup to celery worker/beat commands in start scripts.",
        safety=Safety.SAFE,
        reads=FileKind.SCRIPT,
        docs="""\
## Why
Most compose files do not name Celery at all: cookiecutter-django's say `command:
/start-celeryworker`, a script copied into the image that runs `exec celery -A config.celery_app
worker -l INFO`. Fixing only compose files leaves those workers and beats running as root.

## Which scripts
Scripts that something in the repository starts: a compose service (`command:
/start-celeryworker`, matched through the `COPY`/`ADD` of the Dockerfile that builds the
service's image; `./scripts/celery.sh`; `bash docker/entrypoint.sh worker`), a Dockerfile's
`ENTRYPOINT`/`CMD`, a Procfile, or another such script (`exec /start`). And every `*.sh` file or
extension-less file with a shell shebang that runs `celery worker` or `celery beat`.

## What it changes
Each `celery ... worker` / `celery ... beat` invocation of the script (after `exec`, in `&&`
chains, `if` and `case` branches, across `\\` continuation lines, behind `newrelic-admin
run-program`, `watchmedo ... --`, `tini --`; inside watchfiles' `--args '...'` string) gets
`--uid=nobody --gid=nogroup` at its end, before redirections and a trailing `"$@"`; beat also
gets `--schedule=/tmp/celerybeat-schedule` unless its schedule is kept elsewhere (as CF102). The
group is `nobody` on RHEL-family base images. CRLF scripts keep their CRLF: the options go before
the `\\r`. CF103 covers workers and beats alike, whatever CF101/CF102 are set to.

## Who starts the script decides
- Started only by runners that run as root (a service whose Dockerfile's final stage has no
  non-root `USER` and that sets no `user:`): edited once, however many runners share it.
- Started only as a non-root user (`USER django` in the Dockerfile, `user:` in compose, `gosu
  app /start`, a Procfile process): left alone and reported. `--uid` would crash the worker there
  with `PermissionError: [Errno 1] Operation not permitted`.
- Started both as root and as non-root, or from images that need different groups: reported,
  not edited.
- Started by nothing celeryfix reads: if images copy it in, they decide as above; otherwise the
  script is edited, and a note says it was assumed to run as root. A script found this way most
  often runs in a container started as root (Docker's default); a script run by a non-root
  process (a Kubernetes `securityContext`, systemd `User=`) would fail at start with
  `PermissionError`, so the note asks to check. Exclude the file (`exclude` in
  `[tool.celeryfix]`) if it runs as non-root.

## What it leaves alone (and reports)
Commands that already drop root (`--uid`/`--gid`, `gosu`, `su-exec`, `s6-setuidgid`, `setpriv`,
`chpst -u`, `su -c`), detached workers and `celery multi`, `<tool> celery ...` wrappers,
commented-out lines (never read), Jinja-templated scripts, scripts with an unterminated quote.
""",
        examples=(
            Example(
                "compose/local/django/celery/worker/start",
                "#!/bin/bash\n\nset -o errexit\n\nexec celery -A config.celery_app worker -l INFO\n",
                "#!/bin/bash\n\nset -o errexit\n\nexec celery -A config.celery_app worker -l INFO --uid=nobody --gid=nogroup\n",
            ),
        ),
    )
)
