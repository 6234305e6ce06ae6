"""`celeryfix explain`: every log here is real output, never typed text.

- tests/explain/logs/ holds the unedited output of real workers, beat and `manage.py migrate`
  (captured by tests/e2e/capture_logs.py from the end-to-end set-up);
- the `produced` fixture runs Celery's and Django's own code here, in subprocesses, for the
  wordings it can provoke on any host;
- compose variants are those real logs with the exact prefix `docker compose logs` writes;
- where nothing can run, the line is built from the string in the installed package's source.
"""

from __future__ import annotations

import ast
import fnmatch
import grp
import io
import json
import logging
import os
import pty
import re
import socket
import string
import subprocess
import sys
import textwrap
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from celeryfix import __version__
from celeryfix.cli import main
from celeryfix.explain import decode_log, find_known, json_report, text_report
from celeryfix.explain.catalog import CATALOG, Known, explain, known_by_id
from celeryfix.explain.scan import Finding, log_lines
from celeryfix.rules import rule_by_id

LOGS = Path(__file__).parent / "explain" / "logs"

SUPERUSER = "superuser-privileges"
PICKLE = "pickle-needs-c-force-root"
GID_ENTRY = "gid-entry-not-found"
RETRY_54 = "broker-connection-retry-unset"
RETRY_55 = "broker-connection-retry-false"
CANCEL = "cancel-long-running-tasks"
OLD_NAME = "deprecated-setting-name"
MIXED = "mixed-setting-names"
NO_GROUP = "group-does-not-exist"
NO_USER = "user-does-not-exist"
NOT_PERMITTED = "drop-privileges-not-permitted"
BEAT_SCHEDULE = "beat-schedule-permission-denied"
MIGRATIONS = "django-unmigrated-model-changes"
COLOUR = "log-colour-codes"


def ids(findings: list[Finding]) -> set[str]:
    return {finding.known.id for finding in findings}


def only(findings: list[Finding], known_id: str) -> list[Finding]:
    return [finding for finding in findings if finding.known.id == known_id]


def captured(name: str) -> str:
    return decode_log((LOGS / name).read_bytes())


# ------------------------------------------------------------------ captured end-to-end logs

# File name pattern -> exactly the findings explain reports. Celery 5.4 prints the retry
# warning whenever broker_connection_retry_on_startup is unset; 5.5+ only when
# broker_connection_retry is False (the split-settings fixture). Beat never warns about root.
EXPECTED: dict[str, set[str]] = {
    "worker-root-celery54.log": {SUPERUSER, RETRY_54},
    "worker-root-celery-latest.log": {SUPERUSER},
    "worker-retry-false-celery54.log": {SUPERUSER, RETRY_54},
    "worker-retry-false-celery-latest.log": {SUPERUSER, RETRY_55},
    "worker-connection-lost-celery54.log": {SUPERUSER, RETRY_54, CANCEL},
    "worker-connection-lost-celery-latest.log": {SUPERUSER, CANCEL},
    "worker-deprecated-setting-names-*.log": {SUPERUSER, OLD_NAME},
    "worker-gid-entry-not-found-*.log": {GID_ENTRY, SUPERUSER},
    "worker-pickle-c-force-root-*.log": {PICKLE},
    "worker-group-does-not-exist-*.log": {NO_GROUP},
    "worker-already-non-root-*.log": {NOT_PERMITTED},
    "beat-schedule-permission-denied-*.log": {BEAT_SCHEDULE},
    "django-migrate-pending-changes.log": {MIGRATIONS},
    "*fixed*.log": set(),
    "beat-root-*.log": set(),
    "django-migrate-clean.log": set(),
}


def captured_logs() -> list[Path]:
    return sorted(LOGS.glob("*.log"))


def test_the_captured_logs_are_there() -> None:
    assert captured_logs(), f"{LOGS} is empty: run tests/e2e/capture_logs.py as root"


@pytest.mark.parametrize("log", captured_logs(), ids=lambda path: path.name)
def test_captured_log_yields_exactly_the_expected_findings(log: Path) -> None:
    patterns = [pattern for pattern in EXPECTED if fnmatch.fnmatch(log.name, pattern)]
    assert len(patterns) == 1, f"{log.name}: give it one expectation in EXPECTED ({patterns})"
    assert ids(find_known(captured(log.name))) == EXPECTED[patterns[0]]


# (log, id, subject, values that must be among the details, text of the line that tells it)
FIRST_LINES = [
    ("worker-root-celery54.log", SUPERUSER, None, {}, "SecurityWarning: You're running the worker with superuser privileges: this is"),
    ("worker-root-celery54.log", RETRY_54, None, {"value": "True"}, "CPendingDeprecationWarning: The broker_connection_retry configuration setting will no longer determine"),
    ("worker-retry-false-celery54.log", RETRY_54, None, {"value": "False"}, "CPendingDeprecationWarning: The broker_connection_retry"),
    ("worker-retry-false-celery-latest.log", RETRY_55, None, {}, "CPendingDeprecationWarning: The broker_connection_retry"),
    ("worker-connection-lost-celery-latest.log", CANCEL, None, {}, "In Celery 5.1 we introduced an optional breaking change"),
    ("worker-deprecated-setting-names-celery-latest.log", OLD_NAME, "CELERYD_CONCURRENCY", {"new": "worker_concurrency"}, "The 'CELERYD_CONCURRENCY' setting is deprecated"),
    ("worker-deprecated-setting-names-celery-latest.log", OLD_NAME, "BROKER_URL", {"new": "broker_url"}, "The 'BROKER_URL' setting is deprecated"),
    ("worker-gid-entry-not-found-celery-latest.log", GID_ENTRY, None, {}, "SecurityWarning: An entry for the specified gid or egid was not found."),
    ("worker-pickle-c-force-root-celery-latest.log", PICKLE, None, {}, "Running a worker with superuser privileges when the"),
    ("worker-group-does-not-exist-celery-latest.log", NO_GROUP, "nogroup", {}, "KeyError: 'Group does not exist: nogroup'"),
    ("worker-already-non-root-celery-latest.log", NOT_PERMITTED, None, {}, "PermissionError: [Errno 1] Operation not permitted"),
    ("beat-schedule-permission-denied-celery-latest.log", BEAT_SCHEDULE, None, {"path": "celerybeat-schedule"}, "Removing corrupted schedule file 'celerybeat-schedule'"),
    ("django-migrate-pending-changes.log", MIGRATIONS, "companies", {"app_labels": "companies"}, "Your models in app(s): 'companies' have changes"),
]  # fmt: skip


@pytest.mark.parametrize(("log", "known_id", "subject", "values", "telling"), FIRST_LINES)
def test_finding_starts_at_its_first_appearance(
    log: str, known_id: str, subject: str | None, values: dict[str, str], telling: str
) -> None:
    findings = [f for f in only(find_known(captured(log)), known_id) if f.subject == subject]
    assert len(findings) == 1
    finding = findings[0]
    lines = captured(log).splitlines()
    # The first line of the log with the telling text ends the excerpt; the excerpt starts at
    # that line, or at the warning header just above it.
    assert finding.excerpt[-1].number == 1 + next(
        n for n, line in enumerate(lines) if telling in line
    )
    assert [line.text for line in finding.excerpt] == lines[
        finding.line - 1 : finding.excerpt[-1].number
    ]
    assert finding.excerpt[-1].number - finding.line in {0, 1}
    assert values.items() <= finding.explained.values.items()


def test_a_multi_line_warning_is_reported_from_its_header() -> None:
    (finding,) = only(find_known(captured("worker-connection-lost-celery-latest.log")), CANCEL)
    assert finding.excerpt[0].text.endswith("CPendingDeprecationWarning: ")
    assert (
        finding.excerpt[-1].text == "In Celery 5.1 we introduced an optional breaking change which"
    )


@pytest.mark.parametrize("log", [p for p in captured_logs() if "fixed" in p.name], ids=str)
def test_the_runbooks_check_passes_on_a_fixed_service(
    log: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(capsys, monkeypatch, "explain", str(log))
    assert (code, out) == (0, "No known Celery or Django warnings or startup errors found.\n")


# ------------------------------------------------------------------ the compose prefix


def as_compose(
    logs: dict[str, str], *, colour: bool = False, timestamps: bool = False, crlf: bool = False
) -> tuple[str, dict[tuple[str, int], int]]:
    """Interleave real logs line by line as `docker compose logs` prints them.

    The prefix is compose v2's fmt.Sprintf("%-*s | ", width, name) with width the longest name
    plus one, coloured as a whole on a terminal; -t puts an RFC 3339 timestamp after it. Returns
    the text and where each (container, original line number) went.
    """
    width = max(map(len, logs)) + 1
    columns = {name: text.split("\n")[:-1] for name, text in logs.items()}
    out: list[str] = []
    where: dict[tuple[str, int], int] = {}
    for row in range(max(map(len, columns.values()))):
        for index, (name, lines) in enumerate(columns.items()):
            if row < len(lines):
                prefix = f"{name:<{width}} | "
                if colour:
                    prefix = f"\x1b[{36 + index}m{prefix}\x1b[0m"
                stamp = f"2026-11-24T17:30:{row % 60:02d}.123456789Z " if timestamps else ""
                out.append(prefix + stamp + lines[row])
                where[(name, row + 1)] = len(out)
    return ("\r\n" if crlf else "\n").join(out) + "\n", where


def assert_same_findings(
    compose: list[Finding], plain: dict[str, list[Finding]], where: dict[tuple[str, int], int]
) -> None:
    expected = sorted(
        (where[(container, f.line)], f.known.id, f.subject, re.sub(r"[-_]\d+$", "", container))
        for container, findings in plain.items()
        for f in findings
    )
    assert sorted((f.line, f.known.id, f.subject, f.service) for f in compose) == expected


COMPOSE_CASES = {
    "v2": {"celery-1": "worker-root-celery54.log", "celery-beat-1": "beat-schedule-permission-denied-celery-latest.log"},
    "v1": {"celery_1": "worker-connection-lost-celery54.log", "celery-beat_1": "beat-root-celery-latest.log"},
    "old-v2-names": {"proj-worker-1": "worker-deprecated-setting-names-celery-latest.log", "proj-migrate-1": "django-migrate-pending-changes.log"},
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(COMPOSE_CASES))
@pytest.mark.parametrize(
    "style", [{}, {"colour": True}, {"timestamps": True}, {"colour": True, "crlf": True}], ids=str
)
def test_compose_logs_give_each_service_its_findings(case: str, style: dict[str, bool]) -> None:
    logs = {name: captured(log) for name, log in COMPOSE_CASES[case].items()}
    text, where = as_compose(logs, **style)
    plain = {name: find_known(log) for name, log in logs.items()}
    assert_same_findings(find_known(text), plain, where)


def test_replicas_of_a_service_are_one_finding_at_the_earliest_line() -> None:
    log = captured("worker-root-celery-latest.log")
    text, _ = as_compose({"celery-1": "", "celery-2": log, "celery-3": log})
    (finding,) = find_known(text)
    assert (finding.service, finding.line) == ("celery", 1)


def test_the_same_warning_in_two_services_is_two_findings() -> None:
    log = captured("worker-root-celery-latest.log")
    text, _ = as_compose({"celery-1": log, "celery-high-1": log})
    assert [(f.known.id, f.service) for f in find_known(text)] == [
        (SUPERUSER, "celery"),
        (SUPERUSER, "celery-high"),
    ]


def test_a_warning_split_across_services_is_not_one() -> None:
    # The head of the retry warning in one service, its tail in another: no finding.
    lines = captured("worker-root-celery54.log").split("\n")
    head = next(n for n, line in enumerate(lines) if "will no longer determine" in line)
    worker = "\n".join(lines[: head + 1]) + "\n"
    other = "\n".join(lines[head + 1 : head + 5]) + "\n"
    text, _ = as_compose({"celery-1": worker, "web-1": other})
    assert ids(find_known(text)) == {SUPERUSER}


def test_log_lines_strip_prefix_timestamp_and_colour() -> None:
    text, _ = as_compose(
        {"celery-beat-1": "[2026-11-24 20:31:17,579: INFO/MainProcess] beat: Starting...\n"},
        colour=True,
        timestamps=True,
        crlf=True,
    )
    (line,) = log_lines(text)
    assert (line.stream, line.text, line.coloured) == (
        "celery-beat-1",
        "[2026-11-24 20:31:17,579: INFO/MainProcess] beat: Starting...",
        False,
    )


def test_indented_text_with_a_bar_is_not_a_prefix() -> None:
    lines = log_lines("  . app.tasks.a | b\nTraceback (most recent call last):\n")
    assert [line.stream for line in lines] == ["", ""]


# ------------------------------------------------------------------ produced here, by Celery and Django


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_gid() -> int:
    taken = {group.gr_gid for group in grp.getgrall()}
    return next(gid for gid in range(47000, 48000) if gid not in taken)


@dataclass(frozen=True)
class Run:
    argv: list[str]
    cwd: Path
    group: int | None = None  # as root: start with this real gid (no supplementary groups)
    tty: bool = False  # stdout and stderr on a pseudo-terminal, as compose's `tty: true`


def run(item: Run) -> str:
    """Stdout and stderr of a real process, merged."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY", "C_FORCE"))}
    env["PYTHONPATH"] = str(item.cwd)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    as_group = item.group if os.geteuid() == 0 else None
    if not item.tty:
        done = subprocess.run(
            item.argv,
            cwd=item.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=60,
            check=False,
            group=as_group,
            extra_groups=[] if as_group is not None else None,
        )
        return done.stdout.decode(errors="replace")
    master, slave = pty.openpty()
    process = subprocess.Popen(
        item.argv, cwd=item.cwd, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave
    )
    os.close(slave)
    deadline = threading.Timer(60, process.kill)  # reading a terminal has no timeout of its own
    deadline.start()
    chunks = []
    try:
        while chunk := _read_terminal(master):
            chunks.append(chunk)
    finally:
        deadline.cancel()
        os.close(master)
        process.wait()
    return b"".join(chunks).decode(errors="replace")


def _read_terminal(master: int) -> bytes:
    try:
        return os.read(master, 65536)
    except OSError:  # EIO: every process on the other side is gone
        return b""


def celery(app: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", app, "worker", "--pool=solo", *args]


# A config module in Celery 3 names (no namespace), retries off, a broker that refuses: the
# worker prints its deprecation warnings and the 5.5+ retry warning, then stops.
OLD_NAMES_CONFIG = """\
BROKER_URL = "redis://127.0.0.1:{port}/0"
BROKER_CONNECTION_RETRY = False
CELERYD_CONCURRENCY = 1
"""
APP = """\
from celery import Celery

app = Celery("{name}")
app.config_from_object("{config}")
"""
PICKLE_APP = """\
from celery import Celery

app = Celery("pickleapp", broker="redis://127.0.0.1:{port}/0")
app.conf.accept_content = ["json", "pickle"]
"""
# Celery's check reads the ids only through os.get*id: where the test does not run as root,
# it is shown the ids a root container started with a group id unknown to /etc/group has.
AS_ROOT_WITH_GID = """\
import os, sys
if os.geteuid() != 0:
    os.getuid = os.geteuid = lambda: 0
    os.getgid = os.getegid = lambda: {gid}
sys.argv = ["celery", "-A", "pickleapp", "worker", "--pool=solo"]
from celery.__main__ import main
main()
"""
# The worker's privilege drop, called the way celery/bin/worker.py calls it, by a process that
# is not root any more: what a service with a non-root `user:` gets from --uid/--gid. Then an
# EPERM from elsewhere, which is not that finding.
DROP_WHEN_NOT_ROOT = """\
import os, pwd, traceback
from celery.platforms import maybe_drop_privileges
nobody = pwd.getpwnam("nobody")
if os.geteuid() == 0:
    os.setgroups([])
    os.setresgid(nobody.pw_gid, nobody.pw_gid, nobody.pw_gid)
    os.setresuid(nobody.pw_uid, nobody.pw_uid, nobody.pw_uid)
try:
    maybe_drop_privileges(uid=str(nobody.pw_uid), gid=str(nobody.pw_gid))
except PermissionError:
    traceback.print_exc()
try:
    os.kill(1, 0)
except PermissionError:
    traceback.print_exc()
"""
# Celery keeps the style most names use and asks to rename the others.
MIXED_OLD_INTO_NEW = (
    'broker_url = "redis://127.0.0.1:{port}/0"\nworker_concurrency = 1\n'
    "CELERYD_PREFETCH_MULTIPLIER = 1\n"
)
MIXED_NEW_INTO_OLD = (
    'BROKER_URL = "redis://127.0.0.1:{port}/0"\nCELERYD_CONCURRENCY = 1\n'
    "worker_prefetch_multiplier = 1\n"
)


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def celery_runs(folder: Path) -> dict[str, Run]:
    port = free_port()  # nothing listens there: connection refused at once
    apps = {
        "oldapp.py": APP.format(name="oldapp", config="oldconfig"),
        "oldconfig.py": OLD_NAMES_CONFIG.format(port=port),
        "pickleapp.py": PICKLE_APP.format(port=port),
        "mixold.py": APP.format(name="mixold", config="mixoldconfig"),
        "mixoldconfig.py": MIXED_OLD_INTO_NEW.format(port=port),
        "mixnew.py": APP.format(name="mixnew", config="mixnewconfig"),
        "mixnewconfig.py": MIXED_NEW_INTO_OLD.format(port=port),
        "drop.py": DROP_WHEN_NOT_ROOT,
    }
    write(folder, apps)
    gid = free_gid()
    return {
        "old-names": Run(celery("oldapp"), folder),
        "old-names-tty": Run(celery("oldapp"), folder, tty=True),
        "pickle-unknown-gid": Run(
            [sys.executable, "-c", AS_ROOT_WITH_GID.format(gid=gid)], folder, group=gid
        ),
        "missing-group": Run(celery("oldapp", "--uid=nobody", "--gid=celeryfix-no-group"), folder),
        "missing-user": Run(celery("oldapp", "--uid=celeryfix-no-user"), folder),
        "not-root": Run([sys.executable, "drop.py"], folder),
        "mixed-old-into-new": Run(celery("mixold"), folder),
        "mixed-new-into-old": Run(celery("mixnew"), folder),
    }


DJANGO_SETTINGS = """\
SECRET_KEY = "throwaway"
INSTALLED_APPS = ["shop"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
"""
# A custom save(): never a reason for the migrate warning.
MODELS = """\
from django.db import models


class Product(models.Model):
    name = models.CharField(max_length=100)

    def save(self, *args, **kwargs):
        self.name = self.name.strip()
        super().save(*args, **kwargs)
"""
# The same model with a help_text and an ordering the migrations do not have.
MODELS_CHANGED = MODELS.replace(
    "max_length=100)", 'max_length=100, help_text="Shown on the invoice")'
) + textwrap.indent('\nclass Meta:\n    ordering = ["name"]\n', "    ")


def django(folder: Path, *args: str) -> str:
    argv = [sys.executable, "-m", "django", *args, "--settings=settings"]
    return run(Run(argv, folder))


def django_runs(folder: Path) -> dict[str, str]:
    """migrate with a custom save() and complete migrations, then with a model change."""
    write(
        folder, {"settings.py": DJANGO_SETTINGS, "shop/__init__.py": "", "shop/models.py": MODELS}
    )
    out = {"makemigrations": django(folder, "makemigrations", "shop")}
    out["migrate-clean"] = django(folder, "migrate", "--no-input")
    (folder / "shop" / "models.py").write_text(MODELS_CHANGED)
    out["migrate-pending"] = django(folder, "migrate", "--no-input")
    out["dry-run"] = django(folder, "makemigrations", "--dry-run", "-v", "3", "shop")
    return out


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Output of real Celery and Django processes, run side by side (they mostly wait)."""
    celery_folder = tmp_path_factory.mktemp("celery-apps")
    django_folder = tmp_path_factory.mktemp("django-project")
    runs = celery_runs(celery_folder)
    with ThreadPoolExecutor(max_workers=len(runs) + 1) as pool:
        djangos = pool.submit(django_runs, django_folder)
        outputs = dict(zip(runs, pool.map(run, runs.values()), strict=True))
        outputs.update(djangos.result())
    return outputs


AS_ROOT = {SUPERUSER} if os.geteuid() == 0 else set()


def test_old_setting_names_in_a_real_worker(produced: dict[str, str]) -> None:
    findings = find_known(produced["old-names"])
    assert ids(findings) == {OLD_NAME, RETRY_55} | AS_ROOT, produced["old-names"]
    renames = {f.subject: f.explained.values["new"] for f in only(findings, OLD_NAME)}
    assert renames == {
        "BROKER_URL": "broker_url",
        "BROKER_CONNECTION_RETRY": "broker_connection_retry",
        "CELERYD_CONCURRENCY": "worker_concurrency",
    }
    for finding in only(findings, OLD_NAME):
        assert finding.excerpt[0].text.endswith("CDeprecationWarning: ")
        assert f"'{finding.subject}'" in finding.excerpt[-1].text


def test_a_real_worker_on_a_terminal_writes_colour(produced: dict[str, str]) -> None:
    output = produced["old-names-tty"]
    assert "\x1b[" in output and "\r\n" in output  # really coloured, really a terminal
    findings = find_known(output)
    assert ids(findings) == {OLD_NAME, RETRY_55, COLOUR} | AS_ROOT
    assert ids(find_known(produced["old-names"])) == ids(findings) - {COLOUR}


def test_compose_prefix_on_a_coloured_terminal_log(produced: dict[str, str]) -> None:
    output = produced["old-names-tty"].replace("\r\n", "\n")
    text, where = as_compose(
        {"celery-1": output, "redis-1": captured("beat-root-celery-latest.log")}, colour=True
    )
    assert_same_findings(find_known(text), {"celery-1": find_known(output)}, where)


def test_pickle_refusal_and_a_gid_without_entry(produced: dict[str, str]) -> None:
    output = produced["pickle-unknown-gid"]
    findings = find_known(output)
    assert [f.known.id for f in findings] == [GID_ENTRY, PICKLE], output


@pytest.mark.parametrize(
    ("run_name", "known_id", "subject"),
    [
        ("missing-group", NO_GROUP, "celeryfix-no-group"),
        ("missing-user", NO_USER, "celeryfix-no-user"),
    ],
)
def test_a_missing_account(
    produced: dict[str, str], run_name: str, known_id: str, subject: str
) -> None:
    findings = find_known(produced[run_name])
    assert [(f.known.id, f.subject) for f in findings] == [(known_id, subject)], produced[run_name]
    assert subject in findings[0].explained.title


def test_privilege_drop_by_a_process_that_is_not_root(produced: dict[str, str]) -> None:
    output = produced["not-root"]
    # Two real EPERM tracebacks: the privilege drop's, then os.kill's; only the first counts.
    assert output.count("PermissionError: [Errno 1] Operation not permitted") == 2, output
    (finding,) = find_known(output)
    assert finding.known.id == NOT_PERMITTED
    first_traceback_end = output.split("\n").index(
        "PermissionError: [Errno 1] Operation not permitted"
    )
    assert finding.line == first_traceback_end + 1


@pytest.mark.parametrize(
    ("run_name", "message", "rename"),
    [
        ("mixed-old-into-new", "Cannot mix new and old setting keys", ("CELERYD_PREFETCH_MULTIPLIER", "worker_prefetch_multiplier")),
        ("mixed-new-into-old", "Cannot mix new setting names with old", ("worker_prefetch_multiplier", "CELERYD_PREFETCH_MULTIPLIER")),
    ],
)  # fmt: skip
def test_mixed_setting_names(
    produced: dict[str, str], run_name: str, message: str, rename: tuple[str, str]
) -> None:
    (finding,) = find_known(produced[run_name])
    assert finding.known.id == MIXED, produced[run_name]
    assert finding.excerpt[0].text == "celery.exceptions.ImproperlyConfigured: "
    assert finding.excerpt[-1].text.startswith(message)
    values = finding.explained.values
    assert (values["name"], values["rename"]) == rename


def test_a_custom_save_method_never_causes_the_migrate_warning(produced: dict[str, str]) -> None:
    assert "Create model Product" in produced["makemigrations"], produced["makemigrations"]
    assert "No migrations to apply." not in produced["migrate-clean"]
    assert find_known(produced["migrate-clean"]) == []


def test_a_model_change_without_migration(produced: dict[str, str]) -> None:
    (finding,) = find_known(produced["migrate-pending"])
    assert (finding.known.id, finding.subject) == (MIGRATIONS, "shop")
    assert "makemigrations --dry-run -v 3 shop" in finding.explained.advice
    assert "save()" in finding.explained.meaning


def test_the_advised_dry_run_shows_the_operations(produced: dict[str, str]) -> None:
    # What explain tells the user to run really lists what differs, here help_text and ordering.
    dry_run = produced["dry-run"]
    assert "Alter field name on product" in dry_run, dry_run
    assert "Change Meta options on product" in dry_run
    assert "help_text='Shown on the invoice'" in dry_run


# ------------------------------------------------------------------ from the installed source


def celery_log_record(message: str) -> str:
    """`message` as a worker logs it: Celery's default worker_log_format."""
    from celery.app.defaults import DEFAULTS

    record = logging.LogRecord("celery", logging.WARNING, __file__, 1, message, None, None)
    record.processName = "MainProcess"
    return logging.Formatter(DEFAULTS["worker_log_format"]).format(record)


def test_the_connection_loss_warning_of_the_installed_celery() -> None:
    from celery.exceptions import CPendingDeprecationWarning
    from celery.worker.consumer import consumer

    message = warnings.formatwarning(
        consumer.CANCEL_TASKS_BY_DEFAULT, CPendingDeprecationWarning, consumer.__file__, 427, None
    )
    (finding,) = find_known(celery_log_record(message))
    assert finding.known.id == CANCEL
    assert finding.line == 1


def string_in_source(module_file: str, prefix: str) -> str:
    """The string literal of a module's source that starts with `prefix`."""
    tree = ast.parse(Path(module_file).read_text())
    found = [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith(prefix)
    ]
    assert len(found) == 1, found
    return found[0]


def test_the_schedule_error_of_the_installed_celery_beat() -> None:
    import celery.beat

    template = string_in_source(celery.beat.__file__, "Removing corrupted schedule file")
    message = template % ("/app/celerybeat-schedule", PermissionError(13, "Permission denied"))
    (finding,) = find_known(celery_log_record(message))
    assert (finding.known.id, finding.explained.values["path"]) == (
        BEAT_SCHEDULE,
        "/app/celerybeat-schedule",
    )


def test_the_migrate_notice_of_the_installed_django() -> None:
    import django.core.management.commands.migrate as migrate

    # The notice is an implicitly concatenated literal: one string constant in the AST.
    template = string_in_source(migrate.__file__, "  Your models in app(s): %s have changes")
    (finding,) = find_known(template % "'billing', 'shop'")
    assert finding.explained.values["app_labels"] == "billing shop"


# ------------------------------------------------------------------ the catalog


def template_names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("entry", CATALOG, ids=lambda entry: entry.id)
def test_catalog_entry_is_complete(entry: Known) -> None:
    assert known_by_id(entry.id) is entry
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", entry.id)
    for rule in entry.fix.rules:
        assert rule_by_id(rule) is not None, rule
    groups: set[str] = set()
    for pattern in (*entry.heads, entry.tail):
        if pattern is not None:
            groups |= set(pattern.groupindex)
    if entry.values is not None:
        groups |= set(entry.values({}))
    for template in (entry.title, entry.meaning, entry.fix.advice):
        assert template_names(template) <= groups, template
    if entry.subject is not None:
        assert entry.subject in groups


def test_catalog_ids_are_unique() -> None:
    assert len({known.id for known in CATALOG}) == len(CATALOG)


def test_a_missing_optional_group_reads_as_a_placeholder() -> None:
    # Django before 4.0 printed no app labels.
    known = known_by_id(MIGRATIONS)
    assert known is not None
    explained = explain(known, {"apps": None})
    assert "makemigrations --dry-run -v 3 APP" in explained.advice


def test_a_truncated_multi_line_warning_is_not_guessed() -> None:
    lines = captured("worker-root-celery54.log").split("\n")
    head = next(n for n, line in enumerate(lines) if "will no longer determine" in line)
    assert ids(find_known("\n".join(lines[: head + 1]))) == {SUPERUSER}


# ------------------------------------------------------------------ reports and the command


def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["celeryfix", *args])
    with pytest.raises(SystemExit) as done:
        main()
    captured_io = capsys.readouterr()
    return int(done.value.code or 0), captured_io.out, captured_io.err


def everything() -> str:
    """All captured logs as one compose log, one service each."""
    text, _ = as_compose({p.stem: captured(p.name) for p in captured_logs()})
    return text


def test_reports_are_deterministic() -> None:
    text = everything()
    assert text_report(find_known(text)) == text_report(find_known(text))
    assert json_report(find_known(text), "x.log") == json_report(find_known(text), "x.log")


def test_findings_come_in_order_of_first_appearance() -> None:
    lines = [f.line for f in find_known(everything())]
    assert lines == sorted(lines)


def test_text_report_of_one_finding() -> None:
    report = text_report(find_known(captured("worker-pickle-c-force-root-celery-latest.log")))
    assert report.startswith(
        "pickle-needs-c-force-root (error): The worker refuses to run as root while it accepts pickle\n"
        "  line 1:\n"
        "    Running a worker with superuser privileges when the\n"
        "  What it means: "
    )
    assert "  Fix: CF101. `celeryfix apply` adds --uid=nobody" in report
    assert report.endswith("\n\n1 known finding: 1 fixed by `celeryfix apply` (CF101).\n")


def test_cli_reads_a_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = cli(capsys, monkeypatch, "explain", str(LOGS / "worker-root-celery54.log"))
    assert (code, err) == (1, "")
    assert out.startswith("superuser-privileges (warning): The worker runs as root\n  line 1:\n")
    assert out.endswith("2 known findings: 2 fixed by `celeryfix apply` (CF101, CF201).\n")


def stdin_of(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


@pytest.mark.parametrize("args", [(), ("-",)])
def test_cli_reads_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    text, _ = as_compose(
        {"celery-1": captured("worker-retry-false-celery-latest.log")}, colour=True
    )
    stdin_of(monkeypatch, text.encode())
    code, out, _ = cli(capsys, monkeypatch, "explain", "--json", *args)
    document = json.loads(out)
    assert code == 1
    assert document["source"] == "<stdin>"
    assert [(f["id"], f["service"], f["line"]) for f in document["findings"]] == [
        (SUPERUSER, "celery", 1),
        (RETRY_55, "celery", 28),
    ]


def test_json_document_shape(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = str(LOGS / "worker-retry-false-celery54.log")
    code, out, _ = cli(capsys, monkeypatch, "explain", "--json", log)
    document = json.loads(out)
    assert code == 1 and list(document) == ["celeryfix", "source", "findings"]
    retry = document["findings"][1]
    assert list(retry) == [
        "id", "title", "severity", "service", "line", "excerpt", "details", "meaning", "fix",
    ]  # fmt: skip
    assert retry["details"] == {"value": "False"}
    assert retry["fix"]["rules"] == ["CF201"]
    assert retry["excerpt"][0]["line"] == retry["line"] == 28


def test_cli_nothing_known(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin_of(monkeypatch, captured("beat-root-celery-latest.log").encode())
    code, out, _ = cli(capsys, monkeypatch, "explain", "--json")
    assert code == 0
    assert json.loads(out) == {"celeryfix": __version__, "source": "<stdin>", "findings": []}


@pytest.mark.parametrize(
    ("color", "coloured"), [("always", True), ("never", False), ("auto", False)]
)
def test_cli_colour(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, color: str, coloured: bool
) -> None:
    log = str(LOGS / "worker-root-celery-latest.log")
    _, out, _ = cli(capsys, monkeypatch, "explain", f"--color={color}", log)
    assert ("\x1b[" in out) is coloured


def test_cli_unreadable_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for path in (tmp_path / "missing.log", tmp_path):
        code, out, err = cli(capsys, monkeypatch, "explain", str(path))
        assert (code, out) == (2, "")
        assert err.startswith(f"celeryfix: error: cannot read {path}: ") and err.count("\n") == 1


def test_utf16_logs_from_powershell(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    log = tmp_path / "logs.txt"
    log.write_bytes(captured("worker-root-celery-latest.log").encode("utf-16"))
    code, out, _ = cli(capsys, monkeypatch, "explain", str(log))
    assert code == 1 and out.startswith("superuser-privileges")
