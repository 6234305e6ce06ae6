"""The warnings and startup errors `celeryfix explain` knows: how each looks, what it means, the fix.

Every pattern quotes the wording of Celery's or Django's own source (Celery 5.3-5.7, Django
3.2-5.2); the comment above each entry names where that text lives. Patterns match one line of
a log with the compose prefix and ANSI codes already removed (see scan.py); `tail` and `before`
look at the lines around it in the same service's output.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    """How bad a finding is."""

    ERROR = "error"  # the process stops
    WARNING = "warning"  # it runs, with a problem
    ADVICE = "advice"  # a habit worth changing


@dataclass(frozen=True)
class Fix:
    """What removes a finding: celeryfix rules (`celeryfix apply`), or advice for doing it by hand."""

    rules: tuple[str, ...]  # empty: no rule fixes it
    advice: str  # a template like `meaning`


@dataclass(frozen=True)
class Known:
    """One known warning or error."""

    id: str
    title: str  # a template: `{name}` is a named group of the patterns or of `values`
    severity: Severity
    heads: tuple[re.Pattern[str], ...]  # any of them on a line starts a finding
    meaning: str
    fix: Fix
    tail: re.Pattern[str] | None = None  # must match the rest of the line and the next lines
    before: re.Pattern[str] | None = None  # must match one of the lines just above
    subject: str | None = None  # the group that tells findings of this id apart
    coloured: bool = False  # the line must carry ANSI colour codes
    values: Callable[[Mapping[str, str | None]], dict[str, str]] | None = None


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.MULTILINE)


def _app_labels(groups: Mapping[str, str | None]) -> dict[str, str]:
    # Django prints the labels as a repr list: 'shop', 'billing'. Before 4.0 it printed none.
    labels = re.findall(r"'([^']+)'", groups.get("apps") or "")
    return {"app_labels": " ".join(labels) or "APP", "apps": ", ".join(labels) or "?"}


_DROP_ROOT = "celeryfix apply"

CATALOG: tuple[Known, ...] = (
    # celery/platforms.py ROOT_DISCOURAGED, warned by check_privileges() (apps/worker.py).
    Known(
        id="superuser-privileges",
        title="The worker runs as root",
        severity=Severity.WARNING,
        heads=(_re(r"You're running the worker with superuser privileges"),),
        meaning=(
            "The worker started as root (uid or euid 0, or a sudo/wheel group), so every task "
            "runs with root's rights inside the container. celery beat prints no such warning, "
            "but it runs as root too."
        ),
        fix=Fix(
            ("CF101",),
            f"`{_DROP_ROOT}` adds --uid=nobody --gid=nogroup to the worker command in the compose "
            "file (CF101) and to beat's (CF102); Celery then drops root right after start-up.",
        ),
    ),
    # celery/platforms.py ROOT_DISALLOWED, raised as SecurityError by check_privileges().
    Known(
        id="pickle-needs-c-force-root",
        title="The worker refuses to run as root while it accepts pickle",
        severity=Severity.ERROR,
        heads=(_re(r"Running a worker with superuser privileges when the\b"),),
        tail=_re(r"If you really want to continue then you have to set the C_FORCE_ROOT"),
        meaning=(
            "The worker started as root and accept_content includes pickle. A pickled message "
            "can run any code, so Celery stops instead of starting."
        ),
        fix=Fix(
            ("CF101",),
            f"`{_DROP_ROOT}` adds --uid=nobody --gid=nogroup (CF101), so the worker no longer "
            "runs as root. Also drop pickle from accept_content if nothing needs it. Do not set "
            "C_FORCE_ROOT: it only silences the check.",
        ),
    ),
    # celery/platforms.py ASSUMING_ROOT, warned by check_privileges() when grp has no entry.
    Known(
        id="gid-entry-not-found",
        title="The worker's group is not in the image's /etc/group",
        severity=Severity.WARNING,
        heads=(_re(r"An entry for the specified gid or egid was not found\."),),
        meaning=(
            "The worker runs with a group id that /etc/group does not list (a numeric "
            "`user: 1000:1000` in compose, or --gid=1234). Celery cannot tell whether that group "
            "is privileged, so it treats the process like root: this warning, then the "
            "superuser warning, or the pickle refusal."
        ),
        fix=Fix(
            (),
            "Run with a group the image defines: --gid=nogroup (Debian, Ubuntu) or --gid=nobody "
            "(RHEL family), or create the group in the Dockerfile (`groupadd -g 1000 app`).",
        ),
    ),
    # Celery 5.3-5.4, celery/worker/consumer/consumer.py Consumer.connect(): printed on every
    # connection while broker_connection_retry_on_startup is unset.
    Known(
        id="broker-connection-retry-unset",
        title="broker_connection_retry_on_startup is not set (Celery 5.3-5.4)",
        severity=Severity.WARNING,
        heads=(_re(r"The broker_connection_retry configuration setting will no longer determine"),),
        tail=_re(
            r"If you wish to retain the existing behavior for retrying connections on startup,"
            r"\s+you should set broker_connection_retry_on_startup to (?P<value>True|False)\."
        ),
        meaning=(
            "Celery 5.3 and 5.4 print this on each broker connection while "
            "broker_connection_retry_on_startup is unset: from Celery 6 that setting alone "
            "decides whether the first connection is retried. Today broker_connection_retry "
            "({value}) still decides."
        ),
        fix=Fix(
            ("CF201",),
            f"`{_DROP_ROOT}` sets broker_connection_retry_on_startup to the project's "
            "broker_connection_retry ({value} here) in the settings module Celery reads (CF201): "
            "same behaviour, no warning.",
        ),
    ),
    # Celery 5.5+, the same place: printed only when broker_connection_retry is False and
    # broker_connection_retry_on_startup is unset.
    Known(
        id="broker-connection-retry-false",
        title="broker_connection_retry is False, broker_connection_retry_on_startup unset (Celery 5.5+)",
        severity=Severity.WARNING,
        heads=(_re(r"The broker_connection_retry configuration setting will no longer determine"),),
        tail=_re(
            r"If you wish to refrain from retrying connections on startup,"
            r"\s+you should set broker_connection_retry_on_startup to False instead\."
        ),
        meaning=(
            "broker_connection_retry = False also stops retries of the first broker connection "
            "today; from Celery 6 it will not, and the worker would start retrying at start-up "
            "unless broker_connection_retry_on_startup says otherwise."
        ),
        fix=Fix(
            ("CF201",),
            f"`{_DROP_ROOT}` sets broker_connection_retry_on_startup = False, the project's "
            "broker_connection_retry, in the settings module Celery reads (CF201).",
        ),
    ),
    # celery/worker/consumer/consumer.py CANCEL_TASKS_BY_DEFAULT, warned by
    # on_connection_error_after_connected() (Celery 5.1+).
    Known(
        id="cancel-long-running-tasks",
        title="The broker connection was lost; running acks_late tasks were left running",
        severity=Severity.WARNING,
        heads=(_re(r"In Celery 5\.1 we introduced an optional breaking change which"),),
        tail=_re(r"worker_cancel_long_running_tasks_on_connection_loss"),
        meaning=(
            "The worker lost its broker connection while it ran. Running tasks with acks_late "
            "can no longer be acknowledged, so the broker delivers them again while the first "
            "run may still be going. With worker_cancel_long_running_tasks_on_connection_loss = "
            "True the worker cancels them instead; Celery 6 makes that the default."
        ),
        fix=Fix(
            (),
            "Not fixed automatically: the setting changes what happens to running tasks. Set "
            "worker_cancel_long_running_tasks_on_connection_loss = True "
            "(CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS with the CELERY "
            "namespace) once your acks_late tasks are safe to stop and run again, and find out "
            "why the broker connection dropped.",
        ),
    ),
    # celery/app/utils.py Settings.maybe_warn_deprecated_settings() through
    # celery/utils/deprecated.py DEPRECATION_FMT; apps/worker.py skips django.conf:settings.
    Known(
        id="deprecated-setting-name",
        title="Old setting name {old}",
        severity=Severity.WARNING,
        heads=(
            _re(r"The '(?P<old>[A-Z][A-Z0-9_]*)' setting is deprecated and scheduled for removal"),
        ),
        # The rest of the line or the next one: never a later warning's.
        tail=_re(r"\A(?:[^\n]*\n)?[^\n]*?\bUse the (?P<new>[a-z][a-z0-9_]*) instead"),
        subject="old",
        meaning=(
            "The configuration uses the Celery 3 name {old}; Celery 6 drops the old names. "
            "Celery prints this for each old name it finds."
        ),
        fix=Fix(
            (),
            "Rename {old} to {new}. `celery upgrade settings path/to/module.py` renames every "
            "old name of a module at once; rename them together, as Celery refuses a module "
            "that mixes old and new names.",
        ),
    ),
    # celery/app/utils.py E_MIX_OLD_INTO_NEW and E_MIX_NEW_INTO_OLD, raised by detect_settings().
    Known(
        id="mixed-setting-names",
        title="Old and new setting names mixed",
        severity=Severity.ERROR,
        heads=(
            _re(r"Cannot mix new and old setting keys, please rename the"),
            _re(r"Cannot mix new setting names with old setting names, please"),
        ),
        tail=_re(r"^(?P<name>\w+) +-> (?P<rename>\w+)$"),
        meaning=(
            "The configuration Celery reads holds both Celery 3 names (CELERYD_..., BROKER_URL) "
            "and new ones (worker_..., broker_url), so Celery refuses to start. First rename "
            "it asks for: {name} -> {rename}."
        ),
        fix=Fix(
            (),
            "Use one style for the whole module: rename as the message lists, or convert the "
            "module to the new names with `celery upgrade settings path/to/module.py`.",
        ),
    ),
    # celery/platforms.py parse_gid(), called by maybe_drop_privileges() for --gid.
    Known(
        id="group-does-not-exist",
        title="--gid={group}: no such group in the image",
        severity=Severity.ERROR,
        heads=(_re(r"KeyError: 'Group does not exist: (?P<group>[^']+)'"),),
        subject="group",
        meaning=(
            "celery was started with --gid={group}, but the image's /etc/group has no such "
            "group, so it exits at start. `nogroup` exists on Debian and Ubuntu images; RHEL-"
            "family images (Fedora, CentOS, Rocky, Alma, Amazon Linux, UBI) have `nobody` "
            "instead."
        ),
        fix=Fix(
            (),
            'Use a group the image has: `celeryfix apply --gid=nobody` (or gid = "nobody" '
            "under [tool.celeryfix]) for RHEL-family images, or edit the --gid of the command. "
            "celeryfix picks nobody itself when the Dockerfile's base image is RHEL-family; it "
            "cannot see the base of an image pulled by name.",
        ),
    ),
    # celery/platforms.py parse_uid(), called by maybe_drop_privileges() for --uid.
    Known(
        id="user-does-not-exist",
        title="--uid={user}: no such user in the image",
        severity=Severity.ERROR,
        heads=(_re(r"KeyError: 'User does not exist: (?P<user>[^']+)'"),),
        subject="user",
        meaning=(
            "celery was started with --uid={user}, but the image's /etc/passwd has no such "
            "user, so it exits at start."
        ),
        fix=Fix(
            (),
            "Use a user the image has (`nobody` exists almost everywhere): `celeryfix apply "
            "--uid=nobody`, or create the user in the Dockerfile.",
        ),
    ),
    # os.setgid/initgroups/setuid failing inside celery/platforms.py maybe_drop_privileges().
    Known(
        id="drop-privileges-not-permitted",
        title="--uid/--gid on a service that already runs without root",
        severity=Severity.ERROR,
        heads=(_re(r"PermissionError: \[Errno 1\] Operation not permitted"),),
        before=_re(
            r"celery[/\\]platforms\.py\", line \d+, in "
            r"(?:maybe_drop_privileges|_setuid|setuid|setgid|initgroups|setgroups|_setgroups_hack)\b"
        ),
        meaning=(
            "The process was not root when it started (compose `user:`, or USER in the "
            "Dockerfile), so it cannot switch to the --uid/--gid user and exits at once."
        ),
        fix=Fix(
            (),
            "Remove --uid/--gid from this service's command: it already runs without root. "
            "celeryfix adds none where it sees a non-root `user:` or Dockerfile USER; a user set "
            "elsewhere (an entrypoint, a pulled image) it cannot see.",
        ),
    ),
    # celery/beat.py PersistentScheduler.setup_schedule() ("Removing corrupted schedule file
    # %r: %r") and the OSError that follows when the file cannot be created either.
    Known(
        id="beat-schedule-permission-denied",
        title="beat cannot write its schedule file",
        severity=Severity.ERROR,
        heads=(
            _re(r"Removing corrupted schedule file '(?P<path>[^']+)': .*Permission denied"),
            _re(r"\[Errno 13\] Permission denied: '(?P<path>[^']*celerybeat-schedule[^']*)'"),
        ),
        meaning=(
            "celery beat runs without root (--uid, `user:`) and cannot create its schedule "
            "file '{path}' in a folder owned by root, usually the image's app folder where the "
            "default celerybeat-schedule lives. Beat logs CRITICAL and stops."
        ),
        fix=Fix(
            ("CF102",),
            f"`{_DROP_ROOT}` adds --schedule=/tmp/celerybeat-schedule where it adds --uid/--gid "
            "to beat (CF102). By hand: point -s/--schedule at a writable path, or use a "
            "database scheduler.",
        ),
    ),
    # django/core/management/commands/migrate.py, Command.handle(); before Django 4.0 without
    # the " in app(s): ..." part.
    Known(
        id="django-unmigrated-model-changes",
        title="Model changes without a migration ({apps})",
        severity=Severity.WARNING,
        heads=(
            _re(
                r"Your models(?: in app\(s\): (?P<apps>.+?))? have changes that are not yet "
                r"reflected in a migration"
            ),
        ),
        subject="apps",
        values=_app_labels,
        meaning=(
            "`migrate` compared the models with the state their migrations build and found "
            "differences, so the database and the migration history miss part of the models. "
            "A custom save() method never causes this: methods are not part of that state. "
            "Causes are changed field arguments (help_text, verbose_name, choices, default, "
            "validators ...), Meta options (ordering, verbose_name, indexes, constraints), "
            "managers, a changed DEFAULT_AUTO_FIELD or AppConfig.default_auto_field, or a "
            "migration that was never committed."
        ),
        fix=Fix(
            (),
            "See the operations: `python manage.py makemigrations --dry-run -v 3 {app_labels}`. "
            "Then run makemigrations for real, review the migration and commit it. Do not "
            "ignore it: the next makemigrations mixes these changes into an unrelated "
            "migration, and schema changes among them are missing from the database until then.",
        ),
    ),
    # celery/utils/log.py ColorFormatter: a coloured log record (worker_log_color, or a tty).
    Known(
        id="log-colour-codes",
        title="Celery writes ANSI colour codes into its log",
        severity=Severity.ADVICE,
        heads=(_re(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: [A-Z]+/[\w-]+\]"),),
        coloured=True,
        meaning=(
            "Celery thinks it writes to a terminal (a compose service with `tty: true`), so its "
            "log records carry colour escape codes that log collectors keep as noise."
        ),
        fix=Fix(
            ("CF203",),
            f"`{_DROP_ROOT}` sets worker_log_color = False in the settings module Celery reads "
            "(CF203).",
        ),
    ),
)


def known_by_id(known_id: str) -> Known | None:
    """The catalog entry with this id, or None."""
    return next((known for known in CATALOG if known.id == known_id), None)


@dataclass(frozen=True)
class Explained:
    """A finding's texts with its values filled in."""

    title: str
    meaning: str
    advice: str
    values: dict[str, str] = field(default_factory=dict)


def explain(known: Known, groups: Mapping[str, str | None]) -> Explained:
    """Fill the templates of `known` with the groups of its match."""
    values = {name: value for name, value in groups.items() if value is not None}
    if known.values is not None:
        values.update(known.values(groups))
    fill = _Filler(values)
    return Explained(
        title=known.title.format_map(fill),
        meaning=known.meaning.format_map(fill),
        advice=known.fix.advice.format_map(fill),
        values=dict(sorted(values.items())),
    )


class _Filler(dict[str, str]):
    """Missing values read as `?` (a pattern's optional group that did not take part)."""

    def __missing__(self, key: str) -> str:
        return "?"
