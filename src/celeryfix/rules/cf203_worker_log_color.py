"""CF203: worker_log_color is not set where the Celery app reads it."""

from celeryfix.pysettings.wanted import WantedSetting
from celeryfix.rule import Example, FileKind, Rule, Safety
from celeryfix.rules import register

WANTED = WantedSetting(
    rule="CF203",
    name="worker_log_color",
    old_name="CELERYD_LOG_COLOR",
    value="False",
)

RULE = register(
    Rule(
        id="CF203",
        name="worker-log-color",
        summary="Set worker_log_color = False so worker logs carry no ANSI colour codes.",
        safety=Safety.SAFE,
        reads=FileKind.PYTHON,
        docs="""\
## Why
In containers a worker often believes it writes to a terminal and colours its log lines: the
collected logs (docker logs, Loki, CloudWatch) then hold raw ANSI escape codes.
`worker_log_color = False` writes plain text.

## What it changes
It adds the setting where the Celery app really reads it, under the name that source uses:
`CELERY_WORKER_LOG_COLOR` in Django settings read with `namespace="CELERY"` (`TASKS_...` for
`namespace="TASKS"`), `CELERYD_LOG_COLOR` in Django settings read without a namespace,
`worker_log_color` in a plain config module, a keyword of `app.conf.update(...)`. The line goes
right after the last Celery setting of the module (the shared base of split settings, so that
every environment built on it sees it), else at the end, in the module's style; no other byte
moves.

## What it leaves alone (and reports)
A setting given already in any accepted form (namespaced, old name, lower case, `conf.update`,
inside an `if`, from the environment). A name Celery ignores there is reported, not duplicated.
Apps configured from objects, environment variables or templates (Jinja), and settings modules
that cannot be found, are reported and left alone.
""",
        examples=(
            Example(
                "proj/settings.py",
                'CELERY_BROKER_URL = "redis://redis:6379/0"\n\nTIME_ZONE = "UTC"',
                'CELERY_BROKER_URL = "redis://redis:6379/0"\n'
                "CELERY_WORKER_LOG_COLOR = False\n"
                "\n"
                'TIME_ZONE = "UTC"',
            ),
        ),
    )
)
