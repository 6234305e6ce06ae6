"""CF202: worker_hijack_root_logger is not set where the Celery app reads it."""

from celeryfix.pysettings.wanted import WantedSetting
from celeryfix.rule import Example, FileKind, Rule, Safety
from celeryfix.rules import register

WANTED = WantedSetting(
    rule="CF202",
    name="worker_hijack_root_logger",
    old_name="CELERYD_HIJACK_ROOT_LOGGER",
    value="False",
)

RULE = register(
    Rule(
        id="CF202",
        name="worker-hijack-root-logger",
        summary="Set worker_hijack_root_logger = False so the worker keeps the project's logging.",
        safety=Safety.SAFE,
        reads=FileKind.PYTHON,
        docs="""\
## Why
By default a Celery worker removes every handler of the root logger and installs its own, so
the project's `LOGGING` (JSON logs, Sentry, file handlers) stops applying inside workers.
`worker_hijack_root_logger = False` keeps the project's logging configuration.

## What it changes
It adds the setting where the Celery app really reads it, under the name that source uses:
`CELERY_WORKER_HIJACK_ROOT_LOGGER` in Django settings read with `namespace="CELERY"` (the
namespace decides the prefix), `CELERYD_HIJACK_ROOT_LOGGER` in Django settings read without a
namespace (Django exposes only upper-case names, so Celery reads the old names there),
`worker_hijack_root_logger` in a plain config module, a keyword of `app.conf.update(...)`. The
line goes right after the last Celery setting of the module (the shared base of split settings,
so that every environment built on it sees it), else at the end, in the module's style; no other
byte moves.

## What it leaves alone (and reports)
A setting given already in any accepted form (namespaced, old name, lower case, `conf.update`,
inside an `if`, from the environment); a `"worker_hijack_root_logger"` key inside a dict such as
`LOGGING` is not the setting. A name Celery ignores there is reported, not duplicated. Apps
configured from objects, environment variables or templates (Jinja), and settings modules that
cannot be found, are reported and left alone.
""",
        examples=(
            Example(
                "proj/settings.py",
                'CELERY_BROKER_URL = "redis://redis:6379/0"\n'
                'CELERY_TASK_SERIALIZER = "json"\n'
                "\n"
                'TIME_ZONE = "UTC"\n',
                'CELERY_BROKER_URL = "redis://redis:6379/0"\n'
                'CELERY_TASK_SERIALIZER = "json"\n'
                "CELERY_WORKER_HIJACK_ROOT_LOGGER = False\n"
                "\n"
                'TIME_ZONE = "UTC"\n',
            ),
        ),
    )
)
