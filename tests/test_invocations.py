"""Which argv starts Celery, and what its options say, checked against Celery's click parser."""

from __future__ import annotations

import dataclasses
from typing import Any

import click
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles.celery_cli import declared_options, parse_with_celery

from celeryfix.invocations import (
    BEAT_OPTIONS,
    GLOBAL_OPTIONS,
    WORKER_OPTIONS,
    CeleryInvocation,
    NestedScript,
    WrappedCelery,
    analyze_argv,
    is_unknown_variable,
)
from celeryfix.shellwords import parse_script, split_compose_command, split_shlex


def invocation(argv: list[str]) -> CeleryInvocation:
    (found,) = analyze_argv(argv)
    assert isinstance(found, CeleryInvocation), found
    return found


def fields(found: CeleryInvocation) -> dict[str, Any]:
    """The fields a table states (the defaults of a plain `celery worker` are left out)."""
    plain = CeleryInvocation(
        program_index=0,
        args_index=1,
        subcommand=None,
        subcommand_index=None,
        end_index=0,
        app=None,
        has_uid=False,
        has_gid=False,
        detach=False,
        embedded_beat=False,
        schedule_set=False,
        scheduler=None,
        drops_privileges=None,
    )
    return {
        name: value
        for name, value in dataclasses.asdict(found).items()
        if name in ("program_index", "args_index", "subcommand", "subcommand_index", "end_index")
        or value != getattr(plain, name)
    }


# --- the option tables are Celery's --------------------------------------------------------------


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("subcommand", "table"),
    [(None, GLOBAL_OPTIONS), ("worker", WORKER_OPTIONS), ("beat", BEAT_OPTIONS)],
)
def test_option_tables_are_celerys(subcommand: str | None, table: dict[str, Any]) -> None:
    assert table == declared_options(subcommand)


# --- the oracle itself ----------------------------------------------------------------------------


@pytest.mark.oracle
def test_oracle_reads_worker_options() -> None:
    parsed = parse_with_celery(
        [
            "-A",
            "nowhere.at.all",
            "worker",
            "-l",
            "info",
            "--uid=nobody",
            "-B",
            "-s",
            "x",
            "-Q",
            "beat",
        ]
    )
    assert parsed["subcommand"] == "worker"
    assert parsed["global"]["app"] == "nowhere.at.all"  # never imported
    assert parsed["params"]["uid"] == "nobody"
    assert parsed["params"]["beat"] is True
    assert parsed["params"]["schedule_filename"] == "x"
    assert parsed["params"]["queues"] == ["beat"]
    assert parsed["given"] == {"loglevel", "uid", "beat", "schedule_filename", "queues"}


@pytest.mark.oracle
def test_oracle_reads_beat_options_and_keeps_the_working_directory() -> None:
    parsed = parse_with_celery(
        ["--workdir", "/", "beat", "-S", "redbeat.RedBeatScheduler", "--detach"]
    )
    assert parsed["global_given"] == {"workdir"}
    assert parsed["params"]["scheduler"] == "redbeat.RedBeatScheduler"
    assert parsed["params"]["detach"] is True
    assert parsed["given"] == {"scheduler", "detach"}


@pytest.mark.oracle
def test_oracle_rejects_what_celery_rejects() -> None:
    with pytest.raises(click.NoSuchOption):
        parse_with_celery(["worker", "-A", "proj"])  # the Celery 4 order
    with pytest.raises(click.NoSuchOption):
        parse_with_celery(["beat", "-D"])  # beat has only --detach
    assert parse_with_celery(["--version"])["subcommand"] is None


# --- Celery invocations ---------------------------------------------------------------------------

# (argv, fields of the invocation, whether Celery 5 accepts argv[args_index:])
CELERY_CASES: list[tuple[list[str], dict[str, Any], bool]] = [
    (
        ["celery", "-A", "proj", "worker", "-l", "info"],
        dict(program_index=0, args_index=1, subcommand="worker", subcommand_index=3, end_index=6,
             app="proj"),
        True,
    ),
    (
        ["/usr/local/bin/celery", "-Aproj", "worker", "--uid=nobody", "--gid", "nogroup"],
        dict(program_index=0, args_index=1, subcommand="worker", subcommand_index=2, end_index=6,
             app="proj", has_uid=True, has_gid=True),
        True,
    ),
    (
        ["./venv/bin/celery", "--app=proj.celery:app", "-q", "-C", "--skip-checks", "beat",
         "-s", "/tmp/schedule", "--detach"],
        dict(program_index=0, args_index=1, subcommand="beat", subcommand_index=5, end_index=9,
             app="proj.celery:app", detach=True, schedule_set=True),
        True,
    ),
    (
        ["python", "-m", "celery", "--app", "proj", "-b", "redis://r", "worker", "-EB", "-c", "2"],
        dict(program_index=0, args_index=3, subcommand="worker", subcommand_index=7, end_index=11,
             app="proj", embedded_beat=True),
        True,
    ),
    (
        ["python3.12", "-u", "-mcelery", "-A", "p", "worker", "-BEl", "info", "-s", "beat.db",
         "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
        dict(program_index=0, args_index=3, subcommand="worker", subcommand_index=5, end_index=12,
             app="p", embedded_beat=True, schedule_set=True,
             scheduler="django_celery_beat.schedulers:DatabaseScheduler"),
        True,
    ),
    (
        ["celery", "-A", "p", "worker", "-S", "/var/run/state.db", "-Q", "beat", "-n", "worker@%h"],
        dict(program_index=0, args_index=1, subcommand="worker", subcommand_index=3, end_index=10,
             app="p"),
        True,
    ),  # -S is the worker's --statedb; `beat` is a queue; `worker@%h` a hostname
    (
        ["celery", "-A", "p", "beat", "-S", "redbeat.RedBeatScheduler", "-l", "INFO"],
        dict(program_index=0, args_index=1, subcommand="beat", subcommand_index=3, end_index=8,
             app="p", scheduler="redbeat.RedBeatScheduler"),
        True,
    ),
    (
        ["celery", "-A", "p", "worker", "-D", "--pidfile=/tmp/w.pid"],
        dict(program_index=0, args_index=1, subcommand="worker", subcommand_index=3, end_index=6,
             app="p", detach=True),
        True,
    ),
    (
        ["celery", "-A", "p", "worker", "-Q", "--uid=x"],
        dict(program_index=0, args_index=1, subcommand="worker", subcommand_index=3, end_index=6,
             app="p"),
        True,
    ),  # click takes `--uid=x` as the queue name
    (
        ["celery", "-A", "p", "worker", "-l", "info", "$@"],
        dict(program_index=0, args_index=1, subcommand="worker", subcommand_index=3, end_index=6,
             app="p"),
        True,
    ),
    (
        ["celery", "-A", "p", "worker", "-l", "info", "--", "worker.prefetch_multiplier=1"],
        dict(program_index=0, args_index=1, subcommand="worker", subcommand_index=3, end_index=6,
             app="p"),
        True,
    ),
    (
        ["celery", "-A", "p", "worker", "-Q", "${@}"],
        dict(program_index=0, args_index=1, subcommand="worker", subcommand_index=3, end_index=6,
             app="p"),
        True,
    ),  # the trailing "${@}" is the value of -Q: options cannot go before it
    (
        ["celery", "--version"],
        dict(program_index=0, args_index=1, subcommand=None, subcommand_index=None, end_index=2),
        True,
    ),
    (
        ["celery", "-A", "p", "inspect", "ping", "-d", "celery@x"],
        dict(program_index=0, args_index=1, subcommand="inspect", subcommand_index=3, end_index=7,
             app="p", unknown_options=("-d",)),
        True,
    ),
    (
        ["celery", "multi", "start", "w1", "-A", "proj", "-l", "info", "--uid=x"],
        dict(program_index=0, args_index=1, subcommand="multi", subcommand_index=1, end_index=9,
             app="proj", has_uid=True),
        True,
    ),
    (
        ["celery", "worker", "-A", "proj", "--loglevel=info"],
        dict(program_index=0, args_index=1, subcommand="worker", subcommand_index=1, end_index=5,
             app="proj", legacy_app=True),
        False,
    ),  # Celery 4 order: Celery 5 rejects it
    (
        ["celery", "-Q", "beat", "worker"],
        dict(program_index=0, args_index=1, subcommand="worker", subcommand_index=3, end_index=4,
             unknown_options=("-Q",)),
        False,
    ),  # a misplaced worker option still takes its value
    (
        ["celery", "-A", "p", "beat", "-D"],
        dict(program_index=0, args_index=1, subcommand="beat", subcommand_index=3, end_index=5,
             app="p", unknown_options=("-D",)),
        False,
    ),
    (
        ["celery", "-A", "p", "$@"],
        dict(program_index=0, args_index=1, subcommand="$@", subcommand_index=3, end_index=4,
             app="p"),
        True,
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "expected", "valid"), CELERY_CASES, ids=[" ".join(c[0]) for c in CELERY_CASES]
)
def test_celery_invocations(argv: list[str], expected: dict[str, Any], valid: bool) -> None:
    assert fields(invocation(argv)) == expected


def agrees_with_celery(found: CeleryInvocation, argv: list[str]) -> dict[str, Any]:
    """Check the analysis against what Celery's click parser reads; return the parse."""
    parsed = parse_with_celery(argv[found.args_index :])
    given, params = parsed["given"], parsed["params"]
    assert found.subcommand == parsed["subcommand"]
    assert found.app == (parsed["global"]["app"] if "app" in parsed["global_given"] else None)
    assert found.has_uid == ("uid" in given)
    assert found.has_gid == ("gid" in given)
    assert found.detach == ("detach" in given)
    assert found.embedded_beat == ("beat" in given and found.subcommand == "worker")
    schedule = "schedule" if found.subcommand == "beat" else "schedule_filename"
    assert found.schedule_set == (schedule in given and found.subcommand in ("worker", "beat"))
    assert found.scheduler == (params["scheduler"] if "scheduler" in given else None)
    return parsed


# Cases click can read (`multi` parses its arguments itself; "$@" is no subcommand to click).
CLICK_CASES = [
    (argv, expected)
    for argv, expected, valid in CELERY_CASES
    if valid and expected["subcommand"] not in ("multi", "$@")
]
# Cases that get options: worker and beat without --uid.
EDITABLE = [
    (argv, expected)
    for argv, expected in CLICK_CASES
    if expected["subcommand"] in ("worker", "beat") and not expected.get("has_uid")
]


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("argv", "expected"), CLICK_CASES, ids=[" ".join(c[0]) for c in CLICK_CASES]
)
def test_celery_invocations_agree_with_celery(argv: list[str], expected: dict[str, Any]) -> None:
    agrees_with_celery(invocation(argv), argv)


def with_options(argv: list[str], found: CeleryInvocation, options: list[str]) -> list[str]:
    return argv[: found.end_index] + options + argv[found.end_index :]


@pytest.mark.oracle
@pytest.mark.parametrize(("argv", "expected"), EDITABLE, ids=[" ".join(c[0]) for c in EDITABLE])
def test_options_at_end_index_change_nothing_else(
    argv: list[str], expected: dict[str, Any]
) -> None:
    found = invocation(argv)
    before = parse_with_celery(argv[found.args_index :])
    options = ["--uid=nobody", "--gid=nogroup"]
    after = parse_with_celery(with_options(argv, found, options)[found.args_index :])
    assert after["given"] == before["given"] | {"uid", "gid"}
    assert after["args"] == before["args"] and after["global"] == before["global"]
    changed = {name for name in after["params"] if after["params"][name] != before["params"][name]}
    assert changed == {"uid", "gid"}
    assert (after["params"]["uid"], after["params"]["gid"]) == ("nobody", "nogroup")


# Generated celery argvs: option forms, clusters, values that look like flags or subcommands.
_VALUES = {
    "app": ["proj", "proj.celery:app", "beat"],
    "broker": ["redis://r:6379/0"],
    "result_backend": ["redis://r"],
    "loader": ["default"],
    "config": ["proj.settings"],
    "hostname": ["w1@%h", "worker", "beat@x"],
    "statedb": ["/tmp/state"],
    "loglevel": ["info", "DEBUG", "warning"],
    "optimization": ["fair", "default"],
    "prefetch_multiplier": ["1", "4"],
    "concurrency": ["2", "auto"],
    "pool": ["solo", "threads", "prefork"],
    "time_limit": ["30", "1.5"],
    "soft_time_limit": ["20"],
    "max_tasks_per_child": ["100"],
    "pool_start_method": ["fork", "spawn"],
    "max_memory_per_child": ["1000"],
    "queues": ["beat", "a,b", "-B"],
    "exclude_queues": ["x"],
    "include": ["proj.tasks"],
    "heartbeat_interval": ["10"],
    "autoscale": ["10,3"],
    "schedule_filename": ["/tmp/s", "beat"],
    "schedule": ["/tmp/s", "worker"],
    "scheduler": ["django_celery_beat.schedulers:DatabaseScheduler", "-B"],
    "max_interval": ["5"],
    "logfile": ["/tmp/log"],
    "pidfile": ["/tmp/pid"],
    "uid": ["nobody", "1000"],
    "gid": ["nogroup"],
    "umask": ["0022"],
    "executable": ["/usr/bin/python3"],
}


@st.composite
def option_words(draw: st.DrawFn, table: dict[str, tuple[str, bool]]) -> list[str]:
    """One option of `table` (not --help) written in one of the forms click accepts."""
    options = sorted(option for option in table if option not in ("--help", "--version"))
    option = draw(st.sampled_from(options))
    name, takes_value = table[option]
    if not takes_value:
        flags = [o for o in options if len(o) == 2 and not table[o][1]]
        if len(option) == 2 and flags and draw(st.booleans()):
            cluster = "-" + "".join(o[1] for o in draw(st.permutations(flags))[:3])  # -EB
            if draw(st.booleans()):  # -EBl info, -EBlinfo: the last letter takes a value
                letters = sorted(o for o in options if len(o) == 2 and table[o][1])
                letter = draw(st.sampled_from(letters))
                value = draw(st.sampled_from(_VALUES[table[letter][0]]))
                cluster += letter[1]
                return draw(st.sampled_from([[cluster + value], [cluster, value]]))
            return [cluster]
        return [option]
    value = draw(st.sampled_from(_VALUES[name]))
    if option.startswith("--"):
        return draw(st.sampled_from([[f"{option}={value}"], [option, value]]))
    return draw(st.sampled_from([[option + value], [option, value]]))


@st.composite
def celery_argvs(draw: st.DrawFn) -> list[str]:
    argv = ["celery"]
    for _ in range(draw(st.integers(0, 3))):
        argv += draw(option_words({k: v for k, v in GLOBAL_OPTIONS.items() if k != "--workdir"}))
    subcommand = draw(st.sampled_from(["worker", "beat"]))
    argv.append(subcommand)
    table = WORKER_OPTIONS if subcommand == "worker" else BEAT_OPTIONS
    for _ in range(draw(st.integers(0, 6))):
        argv += draw(option_words(table))
    return argv


@pytest.mark.oracle
@settings(max_examples=150, deadline=None)
@given(celery_argvs(), st.booleans())
def test_generated_invocations_agree_with_celery(argv: list[str], all_args: bool) -> None:
    if all_args:
        argv = [*argv, "$@"]
    found = invocation(argv)
    assert found.unknown_options == ()
    before = agrees_with_celery(found, argv)
    if found.has_uid:
        return
    if all_args and found.end_index == len(argv) - 1:
        assert before["args"] == ["$@"]
    after = parse_with_celery(with_options(argv, found, ["--uid=nobody"])[found.args_index :])
    assert after["given"] == before["given"] | {"uid"}
    assert after["args"] == before["args"]
    changed = {name for name in after["params"] if after["params"][name] != before["params"][name]}
    assert changed == {"uid"}


# --- launchers ---------------------------------------------------------------------------------------

# (argv, index of `celery` (or python), where options go, privileges dropped by)
LAUNCHED: list[tuple[list[str], int, int, str | None]] = [
    (["exec", "celery", "-A", "p", "worker"], 1, 5, None),
    (["exec", "-a", "name", "celery", "worker"], 3, 5, None),
    (["A=1", "B=2", "celery", "worker"], 2, 4, None),
    (["env", "-i", "-u", "X", "DJANGO_SETTINGS_MODULE=p.settings", "celery", "worker"], 5, 7, None),
    (["/usr/bin/env", "python", "-m", "celery", "worker"], 1, 5, None),
    (["env", "-", "--chdir=/app", "celery", "beat"], 3, 5, None),
    (["nice", "-n", "10", "nohup", "time", "-p", "celery", "worker"], 6, 8, None),
    (["nice", "-5", "celery", "worker"], 2, 4, None),
    (["timeout", "-s", "KILL", "30", "celery", "inspect", "ping"], 4, 7, None),
    (["command", "celery", "worker"], 1, 3, None),
    (["dumb-init", "--single-child", "--", "celery", "worker"], 3, 5, None),
    (["dumb-init", "-r", "15:2", "celery", "worker"], 3, 5, None),
    (["/sbin/tini", "-g", "--", "celery", "worker"], 3, 5, None),
    (["tini", "-p", "SIGTERM", "--", "celery", "worker"], 4, 6, None),
    (
        [
            "watchmedo",
            "auto-restart",
            "--directory=./",
            "--pattern=*.py",
            "--recursive",
            "--",
            "celery",
            "-A",
            "p",
            "worker",
        ],
        6,
        10,
        None,
    ),
    (["watchmedo", "auto-restart", "-d", ".", "-p", "*.py", "-R", "celery", "worker"], 7, 9, None),
    (["python", "-m", "watchdog.watchmedo", "auto-restart", "--", "celery", "worker"], 5, 7, None),
    (["newrelic-admin", "run-program", "celery", "worker"], 2, 4, None),
    (["newrelic-admin", "run-python", "-m", "celery", "worker"], 1, 5, None),
    (["ddtrace-run", "celery", "-A", "p", "worker"], 1, 5, None),
    (
        [
            "opentelemetry-instrument",
            "--traces_exporter",
            "otlp",
            "--service_name=w",
            "celery",
            "worker",
        ],
        4,
        6,
        None,
    ),
    (["uv", "run", "celery", "worker"], 2, 4, None),
    (
        ["uv", "--directory", "/app", "run", "--frozen", "--with", "x", "--", "celery", "beat"],
        8,
        10,
        None,
    ),
    (["uv", "run", "-m", "celery", "worker"], 2, 5, None),
    (["poetry", "run", "celery", "worker"], 2, 4, None),
    (["poetry", "-C", "/app", "run", "python", "-m", "celery", "worker"], 4, 8, None),
    (["pipenv", "run", "celery", "worker"], 2, 4, None),
    (["pdm", "run", "-p", "/app", "celery", "worker"], 4, 6, None),
    (["busybox", "nohup", "celery", "worker"], 2, 4, None),
    (["python", "/usr/local/bin/celery", "worker"], 0, 3, None),
    (["gosu", "nobody", "celery", "worker"], 2, 4, "gosu"),
    (["gosu", "root", "celery", "worker"], 2, 4, None),
    (["su-exec", "app:app", "celery", "worker"], 2, 4, "su-exec"),
    (["s6-setuidgid", "app", "celery", "worker"], 2, 4, "s6-setuidgid"),
    (
        ["setpriv", "--reuid=1000", "--regid=1000", "--init-groups", "celery", "beat"],
        4,
        6,
        "setpriv",
    ),
    (["setpriv", "--reuid", "app", "--clear-groups", "--", "celery", "beat"], 5, 7, "setpriv"),
    (["setpriv", "--no-new-privs", "celery", "beat"], 2, 4, None),
    (["runuser", "-u", "app", "--", "celery", "worker"], 4, 6, "runuser"),
    (["chpst", "-u", "app:app", "celery", "worker"], 3, 5, "chpst"),
    (["chpst", "-U", "app", "celery", "worker"], 3, 5, None),
    (["sudo", "-E", "-u", "app", "celery", "worker"], 4, 6, "sudo"),
    (["sudo", "celery", "worker"], 1, 3, None),
    (["exec", "gosu", "app", "tini", "--", "celery", "worker", "$@"], 5, 7, "gosu"),
]


@pytest.mark.parametrize(
    ("argv", "program", "end", "drops"), LAUNCHED, ids=[" ".join(c[0]) for c in LAUNCHED]
)
def test_launchers(argv: list[str], program: int, end: int, drops: str | None) -> None:
    found = invocation(argv)
    assert (found.program_index, found.end_index, found.drops_privileges) == (program, end, drops)


NESTED: list[tuple[list[str], NestedScript]] = [
    (["sh", "-c", "celery worker"], NestedScript(2, "script", None)),
    (["/bin/bash", "-ec", "x"], NestedScript(2, "script", None)),
    (["bash", "-lc", "x"], NestedScript(2, "script", None)),
    (["bash", "-xc", "x", "name", "arg"], NestedScript(2, "script", None)),
    (["bash", "-euo", "pipefail", "-c", "x"], NestedScript(4, "script", None)),
    (["bash", "--login", "-c", "x"], NestedScript(3, "script", None)),
    (["sh", "-c", "--", "x"], NestedScript(3, "script", None)),
    (["dumb-init", "sh", "-c", "x"], NestedScript(3, "script", None)),
    (["gosu", "app", "sh", "-c", "x"], NestedScript(4, "script", "gosu")),
    (["su", "app", "-c", "celery worker"], NestedScript(3, "script", "su")),
    (["su", "-c", "celery worker", "app"], NestedScript(2, "script", "su")),
    (["su", "-", "app", "-s", "/bin/sh", "-c", "x"], NestedScript(6, "script", "su")),
    (["su", "-lc", "x", "app"], NestedScript(2, "script", "su")),
    (["su", "--command=x", "app"], NestedScript(1, "script", "su", (), 10)),
    (["su", "-c", "x"], NestedScript(2, "script", None)),  # su without a user: root
    (["runuser", "app", "-c", "x"], NestedScript(3, "script", "runuser")),
    (
        [
            "watchfiles",
            "--filter",
            "python",
            "celery.__main__.main",
            "--args",
            "-A p worker -l info",
        ],
        NestedScript(5, "argv", None, ("celery",)),
    ),
    (
        ["watchfiles", "celery.__main__.main", "--args=-A p worker"],
        NestedScript(2, "argv", None, ("celery",), 7),
    ),
    (["watchfiles", "celery -A p worker -l info", "/app"], NestedScript(1, "argv", None)),
    (
        ["python", "-m", "watchfiles", "--target-type", "command", "start.sh"],
        NestedScript(5, "argv", None),
    ),
]


@pytest.mark.parametrize(("argv", "expected"), NESTED, ids=[" ".join(c[0]) for c in NESTED])
def test_nested(argv: list[str], expected: NestedScript) -> None:
    assert analyze_argv(argv) == [expected]


WRAPPED: list[tuple[list[str], WrappedCelery]] = [
    (["airflow", "celery", "worker"], WrappedCelery("airflow", 1)),
    (["nautobot-server", "celery", "worker", "-l", "INFO"], WrappedCelery("nautobot-server", 1)),
    (["python", "manage.py", "celery", "worker"], WrappedCelery("manage.py", 2)),
    (["./manage.py", "celery", "beat"], WrappedCelery("manage.py", 1)),
    (["doppler", "run", "--", "celery", "-A", "p", "worker"], WrappedCelery("doppler", 3)),
    (
        ["watchmedo", "auto-restart", "-R", "celery", "--", "-A", "p", "worker"],
        WrappedCelery("watchmedo", 3),
    ),
]


@pytest.mark.parametrize(("argv", "expected"), WRAPPED, ids=[" ".join(c[0]) for c in WRAPPED])
def test_wrapped(argv: list[str], expected: WrappedCelery) -> None:
    assert analyze_argv(argv) == [expected]


NOTHING = [
    [],
    ["gunicorn", "proj.wsgi"],
    ["python", "manage.py", "runserver"],
    ["python", "-c", "import celery"],
    ["echo", "celery", "worker"],
    ["pip", "install", "celery", "-U"],
    ["pkill", "-f", "celery worker"],
    ["command", "-v", "celery"],
    ["useradd", "celery"],
    ["mkdir", "-p", "/var/run/celery"],
    ["env", "-S", "celery worker"],
    ["bash", "/start-worker.sh"],
    ["poetry", "install"],
    ["watchfiles", "myapp.main"],
    ["exec"],
]


@pytest.mark.parametrize("argv", NOTHING, ids=[" ".join(argv) or "empty" for argv in NOTHING])
def test_nothing_celery(argv: list[str]) -> None:
    assert analyze_argv(argv) == []
    assert not is_unknown_variable(argv)


@pytest.mark.parametrize(
    "argv",
    [
        ["${CMD}"],
        ["$CELERY_CMD"],
        ["exec", "$@"],
        ["exec", "gosu", "app", "$@"],
        ["$(which celery)", "worker"],
    ],
)
def test_unknown_variables(argv: list[str]) -> None:
    assert analyze_argv(argv) == []
    assert is_unknown_variable(argv)


# --- layers together -----------------------------------------------------------------------------------


def test_compose_string_with_sh_c_script() -> None:
    """A compose string, split by compose, whose `sh -c` script runs worker and beat."""
    command = (
        'sh -c "python manage.py migrate && celery -A proj worker -l info -B & '
        'exec celery -A proj beat --loglevel=info"'
    )
    words = split_compose_command(command)
    (nested,) = analyze_argv([word.value for word in words])
    assert isinstance(nested, NestedScript) and nested.kind == "script"
    script = words[nested.token_index].chars
    found = []
    for simple in parse_script(script.text, strict=True):
        for item in analyze_argv(simple.argv):
            assert isinstance(item, CeleryInvocation)
            at = script.parent_offset_after(simple.words[item.end_index - 1].end)
            found.append((item.subcommand, item.embedded_beat, at))
    text = command
    for _, _, at in sorted(found, key=lambda f: f[2], reverse=True):
        text = text[:at] + " --uid=nobody" + text[at:]
    assert [f[:2] for f in found] == [("worker", True), ("beat", False)]
    assert text == (
        'sh -c "python manage.py migrate && celery -A proj worker -l info -B --uid=nobody & '
        'exec celery -A proj beat --loglevel=info --uid=nobody"'
    )


def test_watchfiles_args_split_with_shlex() -> None:
    argv = [
        "watchfiles",
        "--filter",
        "python",
        "celery.__main__.main",
        "--args",
        "-A proj worker -l info",
    ]
    (nested,) = analyze_argv(argv)
    assert isinstance(nested, NestedScript) and nested.kind == "argv"
    words = split_shlex(argv[nested.token_index][nested.value_offset :])
    found = invocation([*nested.prefix, *[word.value for word in words]])
    assert (found.subcommand, found.app, found.end_index) == ("worker", "proj", 6)
