"""Capture real Celery (and Django) output for the `celeryfix explain` tests.

Run as root from the repository root:

    .venv/bin/python tests/e2e/capture_logs.py

Every log in tests/explain/logs/ is the unedited output of a real process started here,
never typed text: the fixtures' workers and beat as their compose files say, and a few
variants made on a throw-away copy (a flag added to the command, a line added to the
settings, a file bind-mounted over /etc/group) to provoke each warning or failure that
`celeryfix explain` knows. CAPTURES below says what each log shows.
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import harness

LOGS = harness.REPO_ROOT / "tests" / "explain" / "logs"
DROP_ROOT = ("--uid=nobody", "--gid=nogroup")
FIXED_SETTINGS = (
    "\nCELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True"
    "\nCELERY_WORKER_HIJACK_ROOT_LOGGER = False"
    "\nCELERY_WORKER_LOG_COLOR = False\n"
)
OLD_STYLE_CELERYCONFIG = '''"""Celery configuration in the names of Celery 3."""

import os

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "redis://localhost:6379/1")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERYD_CONCURRENCY = 2
CELERYD_PREFETCH_MULTIPLIER = 1
CELERYD_HIJACK_ROOT_LOGGER = False
'''


@dataclass(frozen=True)
class Capture:
    """One log file: which project and service, how the copy or command is changed."""

    log: str
    project: harness.Project
    line: harness.CeleryLine
    service: str  # "worker", "beat" or "migrate"
    expect: tuple[str, ...]  # the output must hold each of these
    absent: tuple[str, ...] = ()  # and none of these
    change: Callable[[Path, harness.Launch], harness.Launch] | None = None
    # Stop the broker once the worker is ready, then wait for the worker to say this.
    lose_broker_until: str | None = None


def _project(name: str) -> harness.Project:
    return next(project for project in harness.PROJECTS if project.name == name)


DEMO = _project("demo-crm")
SPLIT = _project("split-settings")
PLAIN = _project("celeryconfig-app")


def add_args(*args: str) -> Callable[[Path, harness.Launch], harness.Launch]:
    """Append arguments to the service's command."""

    def change(_copy: Path, launch: harness.Launch) -> harness.Launch:
        return dataclasses.replace(launch, argv=(*launch.argv, *args))

    return change


def run_as(*setpriv: str) -> Callable[[Path, harness.Launch], harness.Launch]:
    """Start the command through `setpriv` (as compose's `user:` would)."""

    def change(_copy: Path, launch: harness.Launch) -> harness.Launch:
        return dataclasses.replace(launch, argv=("setpriv", *setpriv, *launch.argv))

    return change


def fixed_demo(copy: Path, launch: harness.Launch) -> harness.Launch:
    """The runbook's fix, made by hand: flags on the command, three settings added."""
    settings = copy / "backend" / "crm" / "settings.py"
    settings.write_text(settings.read_text() + FIXED_SETTINGS)
    extra = (
        DROP_ROOT
        if "worker" in launch.argv
        else (*DROP_ROOT, "--schedule=/tmp/celerybeat-schedule")
    )
    return dataclasses.replace(launch, argv=(*launch.argv, *extra))


def without_nogroup(copy: Path, launch: harness.Launch) -> harness.Launch:
    """An /etc/group without `nogroup`, as in RHEL-family images.

    nsswitch.conf is replaced too: Debian's `group: files systemd` makes nss-systemd
    invent `nogroup` even when /etc/group has none.
    """
    group = copy / "etc-group-without-nogroup"
    lines = Path("/etc/group").read_text().splitlines(keepends=True)
    group.write_text("".join(line for line in lines if not line.startswith("nogroup:")))
    nsswitch = copy / "etc-nsswitch-files-only"
    nsswitch.write_text("passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n")
    for path in (group, nsswitch):
        path.chmod(0o644)
    launch = add_args(*DROP_ROOT)(copy, launch)
    binds = ((str(group), "/etc/group"), (str(nsswitch), "/etc/nsswitch.conf"))
    return dataclasses.replace(launch, binds=binds)


def accepts_pickle(copy: Path, launch: harness.Launch) -> harness.Launch:
    """The plain app accepting pickle (C_FORCE_ROOT unset)."""
    config = copy / "celeryconfig.py"
    config.write_text(config.read_text() + '\naccept_content = ["json", "pickle"]\n')
    return launch


def old_setting_names(copy: Path, launch: harness.Launch) -> harness.Launch:
    """The plain app's config module written with Celery 3 names."""
    (copy / "celeryconfig.py").write_text(OLD_STYLE_CELERYCONFIG)
    return launch


def pending_model_change(copy: Path, launch: harness.Launch) -> harness.Launch:
    """A help_text added to a model field with no migration for it."""
    models = copy / "backend" / "companies" / "models.py"
    text = models.read_text()
    old = 'inn = models.CharField("ИНН", max_length=12, unique=True)'
    new = 'inn = models.CharField("ИНН", max_length=12, unique=True, help_text="10 или 12 цифр")'
    if old not in text:
        raise harness.HarnessError(f"{models} no longer holds {old!r}")
    models.write_text(text.replace(old, new))
    return launch


ROOT_WARNING = harness.SECURITY_WARNING
CLEAN = ("SecurityWarning", "broker_connection_retry", "Traceback", "CRITICAL")
CONNECTION_LOSS = "worker_cancel_long_running_tasks_on_connection_loss"
ALREADY_NOBODY = run_as("--reuid=nobody", "--regid=nogroup", "--clear-groups")
ROOT_WITHOUT_GROUP_ENTRY = run_as("--regid=4242", "--clear-groups")

CAPTURES = (
    Capture("worker-root-celery54.log", DEMO, harness.CELERY_54, "worker",
            expect=(ROOT_WARNING, f"{harness.RETRY_WARNING_54}True.")),
    Capture("worker-root-celery-latest.log", DEMO, harness.CELERY_LATEST, "worker",
            expect=(ROOT_WARNING,), absent=("broker_connection_retry",)),
    Capture("worker-retry-false-celery54.log", SPLIT, harness.CELERY_54, "worker",
            expect=(ROOT_WARNING, f"{harness.RETRY_WARNING_54}False.")),
    Capture("worker-retry-false-celery-latest.log", SPLIT, harness.CELERY_LATEST, "worker",
            expect=(ROOT_WARNING, harness.RETRY_WARNING_55)),
    Capture("beat-root-celery-latest.log", DEMO, harness.CELERY_LATEST, "beat",
            expect=("beat: Starting...",), absent=CLEAN),
    Capture("worker-fixed-celery54.log", DEMO, harness.CELERY_54, "worker",
            expect=(" ready.",), absent=CLEAN, change=fixed_demo),
    Capture("worker-fixed-celery-latest.log", DEMO, harness.CELERY_LATEST, "worker",
            expect=(" ready.",), absent=CLEAN, change=fixed_demo),
    Capture("beat-fixed-celery-latest.log", DEMO, harness.CELERY_LATEST, "beat",
            expect=("beat: Starting...",), absent=CLEAN, change=fixed_demo),
    Capture("beat-schedule-permission-denied-celery-latest.log", DEMO, harness.CELERY_LATEST,
            "beat", expect=("Permission denied", "CRITICAL"), change=add_args(*DROP_ROOT)),
    Capture("worker-group-does-not-exist-celery-latest.log", DEMO, harness.CELERY_LATEST,
            "worker", expect=("KeyError: 'Group does not exist: nogroup'",),
            change=without_nogroup),
    Capture("worker-already-non-root-celery-latest.log", DEMO, harness.CELERY_LATEST, "worker",
            expect=("PermissionError: [Errno 1] Operation not permitted",),
            change=lambda copy, launch: ALREADY_NOBODY(copy, add_args(*DROP_ROOT)(copy, launch))),
    Capture("worker-gid-entry-not-found-celery-latest.log", DEMO, harness.CELERY_LATEST,
            "worker", expect=("An entry for the specified gid or egid was not found",),
            change=ROOT_WITHOUT_GROUP_ENTRY),
    Capture("worker-pickle-c-force-root-celery-latest.log", PLAIN, harness.CELERY_LATEST,
            "worker", expect=("C_FORCE_ROOT",), change=accepts_pickle),
    Capture("worker-deprecated-setting-names-celery-latest.log", PLAIN, harness.CELERY_LATEST,
            "worker", expect=("The 'CELERYD_PREFETCH_MULTIPLIER' setting is deprecated",),
            change=old_setting_names),
    Capture("worker-connection-lost-celery-latest.log", DEMO, harness.CELERY_LATEST, "worker",
            expect=(CONNECTION_LOSS,), lose_broker_until=CONNECTION_LOSS),
    Capture("worker-connection-lost-celery54.log", DEMO, harness.CELERY_54, "worker",
            expect=(CONNECTION_LOSS,), lose_broker_until=CONNECTION_LOSS),
    Capture("django-migrate-clean.log", DEMO, harness.CELERY_LATEST, "migrate",
            expect=("No migrations to apply.",), absent=("Your models in app(s)",)),
    Capture("django-migrate-pending-changes.log", DEMO, harness.CELERY_LATEST, "migrate",
            expect=("Your models in app(s): 'companies' have changes",),
            change=pending_model_change),
)  # fmt: skip


def capture(item: Capture, workspace: Path, shared_redis: harness.RedisServer) -> str:
    """Run one capture and return its output."""
    venv = harness.ensure_venv(item.line)
    copy = harness.copy_project(item.project, workspace, Path(item.log).stem)
    # A capture that stops its broker gets a redis of its own.
    redis = harness.RedisServer() if item.lose_broker_until else shared_redis
    try:
        model = harness.load_compose(copy, item.project.compose_files)
        name = item.project.beat_service if item.service == "beat" else item.project.worker_service
        launch = harness.service_launch(model, name, venv, redis.new_url())
        if item.change is not None:
            launch = item.change(copy, launch)
        if item.service == "migrate":
            return _migrate(launch, venv)
        if item.service == "beat":
            return harness.run_beat(launch).output
        if item.lose_broker_until:
            run = harness.run_worker(launch, on_ready=redis.stop, wait_for=item.lose_broker_until)
            return run.output
        return harness.run_worker(launch).output
    finally:
        if redis is not shared_redis:
            redis.stop()


def _migrate(launch: harness.Launch, venv: Path) -> str:
    """`manage.py migrate` on an already migrated database, as on a redeploy.

    Django reports model changes without a migration only when it has nothing to apply,
    so the first run (creating the tables) is not kept.
    """
    argv = [str(venv / "bin/python"), "manage.py", "migrate", "--no-input"]
    output = ""
    for _ in range(2):
        done = subprocess.run(
            argv,
            cwd=launch.cwd,
            env=dict(launch.env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        if done.returncode:
            raise harness.HarnessError(f"{' '.join(argv)} failed:\n{done.stdout}")
        output = done.stdout
    return output


def main() -> int:
    """Capture every log; print one line per file."""
    LOGS.mkdir(parents=True, exist_ok=True)
    workspace = harness.new_workspace()
    redis = harness.RedisServer()
    try:
        for item in CAPTURES:
            started = time.monotonic()
            output = capture(item, workspace, redis)
            missing = [text for text in item.expect if text not in output]
            unwanted = [text for text in item.absent if text in output]
            if missing or unwanted:
                raise harness.HarnessError(
                    f"{item.log}: missing {missing}, unwanted {unwanted}\n{output}"
                )
            (LOGS / item.log).write_text(output)
            seconds = time.monotonic() - started
            print(f"{item.log:52} {len(output.splitlines()):5} lines {seconds:5.1f}s")
    finally:
        redis.stop()
        shutil.rmtree(workspace, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
