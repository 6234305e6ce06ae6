"""CF201: broker_connection_retry_on_startup is not set where the Celery app reads it."""

from celeryfix.pysettings.wanted import WantedSetting
from celeryfix.rule import Example, FileKind, Rule, Safety
from celeryfix.rules import register

WANTED = WantedSetting(
    rule="CF201",
    name="broker_connection_retry_on_startup",
    old_name="BROKER_CONNECTION_RETRY_ON_STARTUP",
    value="True",
    mirrors="broker_connection_retry",
    mirrors_old_name="BROKER_CONNECTION_RETRY",
)

RULE = register(
    Rule(
        id="CF201",
        name="broker-connection-retry-on-startup",
        summary="Set broker_connection_retry_on_startup to the project's broker_connection_retry.",
        safety=Safety.SAFE,
        reads=FileKind.PYTHON,
        docs="""\
## Why
Celery 5.3 and 5.4 print `CPendingDeprecationWarning: The broker_connection_retry configuration
setting will no longer determine whether broker connection retries are made during startup in
Celery 6.0 and above` whenever `broker_connection_retry_on_startup` is unset (5.5 and later:
when `broker_connection_retry` is False). Setting it explicitly silences the warning and keeps
today's behaviour after the upgrade.

## What it changes
It adds the setting where the Celery app really reads it, under the name that source uses:
`CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP` in Django settings read with
`namespace="CELERY"` (`TASKS_...` for `namespace="TASKS"`), `BROKER_CONNECTION_RETRY_ON_STARTUP`
in Django settings read without a namespace, `broker_connection_retry_on_startup` in a plain
config module, a keyword of `app.conf.update(...)`. The value is the project's own
`broker_connection_retry` (default `True`): a project that sets it to `False` gets `False`, one
that computes it gets a reference to the same name. The line goes right after the last Celery
setting of the module (the shared base of split settings, so that every environment built on it
sees it, also those no file names), else at the end, in the module's style; no other byte moves.
An environment whose `broker_connection_retry` differs from the base's gets its own value in its
own module, after the base's.

## What it leaves alone (and reports)
A setting given already in any accepted form (namespaced, old name, lower case, `conf.update`,
inside an `if`, from the environment). A name Celery ignores there (`CELERY_...` without a
namespace) is reported, not duplicated. Apps configured from objects, environment variables or
templates (Jinja), and settings modules that cannot be found, are reported and left alone.
""",
        examples=(
            Example(
                "proj/settings.py",
                'CELERY_BROKER_URL = "redis://redis:6379/0"\n'
                "CELERY_BROKER_CONNECTION_RETRY = False\n"
                "\n"
                'TIME_ZONE = "UTC"\n',
                'CELERY_BROKER_URL = "redis://redis:6379/0"\n'
                "CELERY_BROKER_CONNECTION_RETRY = False\n"
                "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = False\n"
                "\n"
                'TIME_ZONE = "UTC"\n',
            ),
        ),
    )
)
