"""CF104: a Celery worker or beat started by a Dockerfile's CMD/ENTRYPOINT runs as root."""

from celeryfix.rule import Example, FileKind, Rule, Safety
from celeryfix.rules import register

RULE = register(
    Rule(
        id="CF104",
        name="dockerfile-runs-as-root",
        summary="Add --uid=nobody --gid=nogroup to celery worker/beat in Dockerfile CMD/ENTRYPOINT.",
        safety=Safety.SAFE,
        reads=FileKind.DOCKERFILE,
        docs="""\
## Why
An image whose default command is `celery ... worker` runs it as root unless the Dockerfile
switches user: every `docker run IMAGE`, and every orchestrator that starts the image without a
command of its own, gets a root worker.

## What it changes
The `ENTRYPOINT` and `CMD` in force in the final stage (a later `ENTRYPOINT` resets an inherited
`CMD`; a shell-form `ENTRYPOINT` ignores `CMD`). Exec form (a JSON array) gets new items in the
array's own spacing, `"--uid=nobody", "--gid=nogroup"`; shell form and `["sh", "-c", "..."]`
scripts get the options at the end of the celery command. Beat also gets a writable schedule,
and the group is `nobody` on RHEL-family base images, as in CF102/CF101.

## What it leaves alone (and reports)
An image whose final stage (or a stage it derives from) sets a non-root `USER`: `--uid` would
crash the worker with `PermissionError`. An `ENTRYPOINT` that a compose service built from the
Dockerfile runs as another user than the image's. Commands that already drop root, detached
workers, `celery multi`, `HEALTHCHECK` and `RUN` instructions, build stages that are not the
final one, Jinja-templated Dockerfiles.

A compose `command:` replaces the `CMD` in its service; that command is CF101/CF102's (or
CF103's, when it names a script). The `CMD` is still the image's default, so it is decided by
the image's own `USER`.
""",
        examples=(
            Example(
                "Dockerfile",
                'FROM python:3.12-slim\nCMD ["celery", "-A", "proj", "worker", "-l", "info"]\n',
                'FROM python:3.12-slim\nCMD ["celery", "-A", "proj", "worker", "-l", "info", "--uid=nobody", "--gid=nogroup"]\n',
            ),
        ),
    )
)
