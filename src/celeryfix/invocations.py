"""Which argv starts Celery, and what its options say.

`analyze_argv` takes the argv of one simple command (values, quotes removed) and walks past the
launchers that only prefix a command (`exec`, `env`, `nice`, `tini --`, `uv run`, `gosu USER`,
...) to the program. It answers with what it found there: a Celery invocation and its options, a
string that a shell or a wrapper splits again (`sh -c SCRIPT`, watchfiles' `--args`), or `celery`
run through a tool that is not Celery's own CLI (`airflow celery worker`), which is only reported.

Celery's options are read the way its click CLI reads them (Celery 5.7: celery/bin/celery.py,
worker.py, beat.py, base.py); tests check these tables against the click declarations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

# --- findings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CeleryInvocation:
    """A command that runs Celery's CLI, and what its arguments say."""

    program_index: int  # index of `celery` (of `python` in `python -m celery`, `-m` in `uv run -m`)
    args_index: int  # index of Celery's first argument (just after `celery` / `-m celery`)
    subcommand: str | None  # "worker", "beat", "multi", ... as written (maybe "$@"); None if absent
    subcommand_index: int | None
    end_index: int  # new options go after argv[end_index - 1]: before `--` and a trailing "$@"
    app: str | None  # -A/--app value (global, or after the subcommand in the old order)
    has_uid: bool
    has_gid: bool
    detach: bool  # worker -D/--detach, beat --detach
    embedded_beat: bool  # worker -B/--beat, also in clusters (-EB)
    schedule_set: bool  # beat -s/--schedule; worker -s/--schedule-filename/--schedule
    scheduler: str | None  # beat -S/--scheduler; worker --scheduler (worker -S is --statedb)
    drops_privileges: str | None  # the launcher that switches to another user, if any
    legacy_app: bool = False  # -A/--app after the subcommand: Celery >= 5.0 rejects it
    unknown_options: tuple[str, ...] = ()  # options this Celery version does not declare


@dataclass(frozen=True)
class NestedScript:
    """An argument that a shell or a wrapper splits again into commands or words.

    kind "script": argv[token_index] is a sh script (`sh -c`, `su -c`): read it with
    `shellwords.parse_script` and analyze each simple command (with `drops_privileges`).
    kind "argv": argv[token_index] is split with `shlex.split` (`shellwords.split_shlex`) into
    words that follow `prefix`: watchfiles' `--args` (prefix ("celery",): the target is
    celery.__main__.main) or its command target (prefix ()). Analyze prefix + words.
    The string starts at argv[token_index][value_offset:] (`--args=...`, `-c...`).
    """

    token_index: int
    kind: Literal["script", "argv"]
    drops_privileges: str | None
    prefix: tuple[str, ...] = ()
    value_offset: int = 0


@dataclass(frozen=True)
class WrappedCelery:
    """`celery` reached through a tool whose arguments are not Celery's: report, never edit."""

    tool: str
    token_index: int  # index of the `celery` word


Finding = CeleryInvocation | NestedScript | WrappedCelery


def analyze_argv(argv: Sequence[str]) -> list[Finding]:
    """What the command `argv` runs, as far as Celery is concerned (empty: nothing Celery)."""
    found = _walk(list(argv), 0, None)
    return [] if isinstance(found, _Stop) else [found]


def is_unknown_variable(argv: Sequence[str]) -> bool:
    """Whether the program this command runs is a variable (`$CMD`, `exec "$@"`, `$(...)`)."""
    words = list(argv)
    found = _walk(words, 0, None)
    return (
        isinstance(found, _Stop) and found.index < len(words) and _is_expansion(words[found.index])
    )


# --- Celery's CLI (Celery 5.7) ----------------------------------------------------------------

# option string -> (click parameter name, takes a value)
_Spec = dict[str, tuple[str, bool]]

GLOBAL_OPTIONS: _Spec = {
    "-A": ("app", True),
    "--app": ("app", True),
    "-b": ("broker", True),
    "--broker": ("broker", True),
    "--result-backend": ("result_backend", True),
    "--loader": ("loader", True),
    "--config": ("config", True),
    "--workdir": ("workdir", True),
    "-C": ("no_color", False),
    "--no-color": ("no_color", False),
    "-q": ("quiet", False),
    "--quiet": ("quiet", False),
    "--version": ("version", False),
    "--skip-checks": ("skip_checks", False),
    "--help": ("help", False),
}

_DAEMON_OPTIONS: _Spec = {
    "-f": ("logfile", True),
    "--logfile": ("logfile", True),
    "--pidfile": ("pidfile", True),
    "--uid": ("uid", True),
    "--gid": ("gid", True),
    "--umask": ("umask", True),
    "--executable": ("executable", True),
    "--help": ("help", False),
}

WORKER_OPTIONS: _Spec = {
    "-n": ("hostname", True),
    "--hostname": ("hostname", True),
    "-D": ("detach", False),
    "--detach": ("detach", False),
    "-S": ("statedb", True),
    "--statedb": ("statedb", True),
    "-l": ("loglevel", True),
    "--loglevel": ("loglevel", True),
    "-O": ("optimization", True),
    "--optimization": ("optimization", True),
    "--prefetch-multiplier": ("prefetch_multiplier", True),
    "--disable-prefetch": ("disable_prefetch", False),
    "-c": ("concurrency", True),
    "--concurrency": ("concurrency", True),
    "-P": ("pool", True),
    "--pool": ("pool", True),
    "-E": ("task_events", False),
    "--task-events": ("task_events", False),
    "--events": ("task_events", False),
    "--time-limit": ("time_limit", True),
    "--soft-time-limit": ("soft_time_limit", True),
    "--max-tasks-per-child": ("max_tasks_per_child", True),
    "--pool-start-method": ("pool_start_method", True),
    "--max-memory-per-child": ("max_memory_per_child", True),
    "--purge": ("purge", False),
    "--discard": ("purge", False),
    "-Q": ("queues", True),
    "--queues": ("queues", True),
    "-X": ("exclude_queues", True),
    "--exclude-queues": ("exclude_queues", True),
    "-I": ("include", True),
    "--include": ("include", True),
    "--without-gossip": ("without_gossip", False),
    "--without-mingle": ("without_mingle", False),
    "--without-heartbeat": ("without_heartbeat", False),
    "--heartbeat-interval": ("heartbeat_interval", True),
    "--autoscale": ("autoscale", True),
    "-B": ("beat", False),
    "--beat": ("beat", False),
    "-s": ("schedule_filename", True),
    "--schedule-filename": ("schedule_filename", True),
    "--schedule": ("schedule_filename", True),
    "--scheduler": ("scheduler", True),
    **_DAEMON_OPTIONS,
}

BEAT_OPTIONS: _Spec = {
    "--detach": ("detach", False),
    "-s": ("schedule", True),
    "--schedule": ("schedule", True),
    "-S": ("scheduler", True),
    "--scheduler": ("scheduler", True),
    "--max-interval": ("max_interval", True),
    "--enable-remote-control": ("remote_control", False),
    "--no-enable-remote-control": ("remote_control", False),
    "-n": ("hostname", True),
    "--hostname": ("hostname", True),
    "-l": ("loglevel", True),
    "--loglevel": ("loglevel", True),
    **_DAEMON_OPTIONS,
}

# Options misplaced before the subcommand (an error for click): whether they take a value.
_MISPLACED_VALUES = {
    option: takes_value for option, (_, takes_value) in {**BEAT_OPTIONS, **WORKER_OPTIONS}.items()
}

# Celery 4 accepted the app after the subcommand; Celery 5 rejects it, but it is still the app.
_LEGACY_APP: _Spec = {"-A": ("app", True), "--app": ("app", True)}

# `multi` hands its options to the workers it starts (and moves -A itself).
_SUBCOMMAND_OPTIONS: dict[str, _Spec] = {
    "worker": WORKER_OPTIONS,
    "beat": BEAT_OPTIONS,
    "multi": WORKER_OPTIONS,
}

CELERY_SUBCOMMANDS = frozenset(
    {
        "amqp",
        "beat",
        "call",
        "control",
        "events",
        "flower",
        "graph",
        "inspect",
        "list",
        "logtool",
        "migrate",
        "multi",
        "purge",
        "report",
        "result",
        "shell",
        "status",
        "upgrade",
        "worker",
    }
)

# Words that stand for all of a script's arguments: options must go before them.
_ALL_ARGUMENTS = frozenset({"$@", "${@}", "$*", "${*}"})


@dataclass
class _OptionWalk:
    """What click's parser would read from argv[start:]."""

    values: dict[str, str | bool | None] = field(default_factory=dict)
    value_indices: set[int] = field(default_factory=set)
    unknown: list[str] = field(default_factory=list)
    stop: int = 0  # first positional (options before a subcommand), else len(argv)
    double_dash: int | None = None


def _walk_options(argv: list[str], start: int, spec: _Spec, *, interspersed: bool) -> _OptionWalk:
    """Read options as click does: `--opt=v`, `--opt v`, `-xv`, `-x v`, clusters `-EB`.

    An option `spec` does not declare is recorded as unknown (click would stop there); if a
    worker or beat option of that name takes a value, the next argument is taken as its value,
    so that `celery -Q beat worker` is not read as `celery beat`.
    """
    walk = _OptionWalk(stop=len(argv))
    index = start
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            walk.double_dash = index
            if not interspersed:
                walk.stop = index + 1
            break
        if arg.startswith("-") and len(arg) > 1:
            index = _take_option(argv, index, spec, walk)
        elif interspersed:
            index += 1
        else:
            walk.stop = index
            break
    return walk


def _take_option(argv: list[str], index: int, spec: _Spec, walk: _OptionWalk) -> int:
    """Record the option at argv[index]; return the index of the next unread argument."""
    arg = argv[index]
    name, has_value, inline = arg.partition("=")
    if name.startswith("--"):
        if name not in spec:
            walk.unknown.append(name)
            if not has_value and _MISPLACED_VALUES.get(name, False):
                return _take_next_value(argv, index, None, walk)
            return index + 1
        param, takes_value = spec[name]
        if not takes_value:
            walk.values[param] = True
            return index + 1
        if has_value:
            walk.values[param] = inline
            return index + 1
        return _take_next_value(argv, index, param, walk)
    # A cluster of short options; the first one taking a value takes the rest, or the next arg.
    for position in range(1, len(arg)):
        short = "-" + arg[position]
        if short not in spec:
            walk.unknown.append(short)
            if position + 1 == len(arg) and _MISPLACED_VALUES.get(short, False):
                return _take_next_value(argv, index, None, walk)
            continue
        param, takes_value = spec[short]
        if not takes_value:
            walk.values[param] = True
        elif position + 1 < len(arg):
            walk.values[param] = arg[position + 1 :]
            return index + 1
        else:
            return _take_next_value(argv, index, param, walk)
    return index + 1


def _take_next_value(argv: list[str], index: int, param: str | None, walk: _OptionWalk) -> int:
    # click takes the next argument whatever it looks like (`-Q --uid=x` names a queue).
    value = argv[index + 1] if index + 1 < len(argv) else None
    if param is not None:
        walk.values[param] = value
    if value is None:
        return index + 1
    walk.value_indices.add(index + 1)
    return index + 2


def _celery_invocation(
    argv: list[str], program_index: int, args_index: int, drops: str | None
) -> CeleryInvocation:
    top = _walk_options(argv, args_index, GLOBAL_OPTIONS, interspersed=False)
    if top.stop >= len(argv):
        return CeleryInvocation(
            program_index=program_index,
            args_index=args_index,
            subcommand=None,
            subcommand_index=None,
            end_index=len(argv) if top.double_dash is None else top.double_dash,
            app=_text(top.values.get("app")),
            has_uid=False,
            has_gid=False,
            detach=False,
            embedded_beat=False,
            schedule_set=False,
            scheduler=None,
            drops_privileges=drops,
            unknown_options=tuple(top.unknown),
        )
    sub_index = top.stop
    subcommand = argv[sub_index]
    spec = _SUBCOMMAND_OPTIONS.get(subcommand, _DAEMON_OPTIONS)
    sub = _walk_options(argv, sub_index + 1, {**_LEGACY_APP, **spec}, interspersed=True)
    end = len(argv) if sub.double_dash is None else sub.double_dash
    while (
        end > sub_index + 1 and argv[end - 1] in _ALL_ARGUMENTS and end - 1 not in sub.value_indices
    ):
        end -= 1
    given = sub.values
    is_worker = subcommand in ("worker", "multi")
    legacy_app = "app" in given and subcommand != "multi"
    return CeleryInvocation(
        program_index=program_index,
        args_index=args_index,
        subcommand=subcommand,
        subcommand_index=sub_index,
        end_index=end,
        app=_text(top.values.get("app", given.get("app"))),
        has_uid="uid" in given,
        has_gid="gid" in given,
        detach="detach" in given,
        embedded_beat=is_worker and "beat" in given,
        schedule_set=("schedule_filename" if is_worker else "schedule") in given,
        scheduler=_text(given.get("scheduler")),
        drops_privileges=drops,
        legacy_app=legacy_app,
        unknown_options=tuple(top.unknown + sub.unknown),
    )


def _text(value: str | bool | None) -> str | None:
    return value if isinstance(value, str) else None


# --- launchers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stop:
    """The walk ended without a finding, at argv[index] (a program it does not follow)."""

    index: int


_Step = tuple[int, str | None] | Finding | _Stop  # next program index and privileges, or an end


_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_EXPANSION = re.compile(
    r"\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])|\$\(.*\)|`.*`", re.DOTALL
)
_PYTHON = re.compile(r"(python|pypy)(\d+(\.\d+)*)?")
_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"})
_CELERY_MAINS = frozenset({"celery.__main__.main", "celery.bin.celery.main"})
_CELERY_MODULES = frozenset({"celery", "celery.__main__"})

# Programs that take `celery` as a plain argument (a name to print, find, kill, install).
_INERT_PROGRAMS = frozenset(
    {
        "echo", "printf", "which", "type", "hash", "whereis", "pkill", "pgrep", "killall",
        "kill", "ps", "grep", "egrep", "fgrep", "pip", "pip3", "apt-get", "apt", "apk", "yum",
        "dnf", "test", "[", "[[", "mkdir", "rm", "chown", "chmod", "ls", "cat", "touch",
        "useradd", "adduser", "groupadd", "addgroup", "usermod", "cd", "export", "set",
        "unset", "local", "readonly", "declare", "true", "false", ":", "sleep", "wait",
        "trap", "source", ".", "tail", "logger", "id", "getent",
    }
)  # fmt: skip


def _walk(argv: list[str], index: int, drops: str | None) -> Finding | _Stop:
    while True:
        while index < len(argv) and _ASSIGNMENT.match(argv[index]):
            index += 1  # VAR=value before the command
        if index >= len(argv):
            return _Stop(index)
        step = _step(argv, index, drops)
        if not isinstance(step, tuple):
            return step
        index, drops = step


def _step(argv: list[str], index: int, drops: str | None) -> _Step:
    """Follow the program at argv[index] one launcher further, or end the walk."""
    name = _basename(argv[index])
    if name == "celery":
        return _celery_invocation(argv, index, index + 1, drops)
    if name in _SHELLS:
        return _shell(argv, index, drops)
    if _PYTHON.fullmatch(name):
        return _python(argv, index, drops)
    if name in ("su", "runuser"):
        return _su(argv, index, name, drops)
    launcher = _LAUNCHERS.get(name) or (_tini if name.startswith("tini") else None)
    if launcher is not None:
        return launcher(argv, index, drops)
    return _fallback(argv, index, name)


def _basename(word: str) -> str:
    return word.rstrip("/").rsplit("/", 1)[-1]


def _is_expansion(word: str) -> bool:
    return _EXPANSION.fullmatch(word) is not None


def _is_root(user: str) -> bool:
    return user.split(":", 1)[0] in ("root", "0")


def _getopt(
    argv: list[str], index: int, short_values: str = "", long_values: frozenset[str] = frozenset()
) -> tuple[int, list[tuple[str, str | None]]]:
    """Read getopt-style options up to the first operand (or past `--`).

    Returns the operand's index and the options read, each with its value (None for a flag).
    """
    options: list[tuple[str, str | None]] = []
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            return index + 1, options
        if not arg.startswith("-") or arg == "-":
            return index, options
        index += 1
        if arg.startswith("--"):
            name, equals, inline = arg.partition("=")
            if name in long_values and not equals:
                options.append((name, argv[index] if index < len(argv) else None))
                index += 1
            else:
                options.append((name, inline if equals else None))
            continue
        for letter_at in range(1, len(arg)):
            letter = arg[letter_at]
            if letter not in short_values:
                options.append(("-" + letter, None))
            elif letter_at + 1 < len(arg):
                options.append(("-" + letter, arg[letter_at + 1 :]))
                break
            else:
                options.append(("-" + letter, argv[index] if index < len(argv) else None))
                index += 1
                break
    return index, options


def _skip_options(
    argv: list[str], index: int, short_values: str = "", long_values: frozenset[str] = frozenset()
) -> int:
    """The index of the operand after getopt-style options."""
    return _getopt(argv, index, short_values, long_values)[0]


def _switch_user(options: list[tuple[str, str | None]], names: tuple[str, ...]) -> str | None:
    """The user an option among `names` switches to (the last one), if any."""
    users = [value for option, value in options if option in names and value is not None]
    return users[-1] if users else None


def _fallback(argv: list[str], index: int, tool: str) -> Finding | _Stop:
    """An unknown program: report `tool ... celery <celery args>` as wrapped, else stop."""
    if tool in _INERT_PROGRAMS or _is_expansion(argv[index]):
        return _Stop(index)
    for position in range(index + 1, len(argv)):
        word = argv[position]
        if word != "celery" and not word.endswith("/bin/celery"):
            continue
        following = argv[position + 1] if position + 1 < len(argv) else ""
        if following.startswith("-") or following in CELERY_SUBCOMMANDS:
            return WrappedCelery(tool, position)
    return _Stop(index)


@dataclass(frozen=True)
class ShellOptions:
    """What the options of `sh [options] ...` say: where the operands start, and whether the
    first operand is a script string (-c) or the script comes from stdin (-s)."""

    operands: int  # index of the first operand
    reads_string: bool
    reads_stdin: bool


def shell_options(argv: Sequence[str], index: int) -> ShellOptions:
    """Read the options of the shell at argv[index] (`-ec`, `-o pipefail`, `--rcfile F`, `--`)."""
    position, reads_string, reads_stdin = index + 1, False, False
    while position < len(argv):
        arg = argv[position]
        if arg == "--":
            position += 1
            break
        if arg.startswith("--"):
            position += 2 if arg in ("--rcfile", "--init-file") else 1
        elif arg[:1] in "-+" and len(arg) > 1:
            letters = arg[1:]
            reads_string = reads_string or (arg[0] == "-" and "c" in letters)
            reads_stdin = reads_stdin or (arg[0] == "-" and "s" in letters)
            position += 1 + letters.count("o") + letters.count("O")  # -o NAME, -euo pipefail
        else:
            break
    return ShellOptions(position, reads_string, reads_stdin)


def _shell(argv: list[str], index: int, drops: str | None) -> _Step:
    """`sh [options] -c SCRIPT [name [args...]]` (also -ec, -lc, -xc, -o pipefail -c ...)."""
    options = shell_options(argv, index)
    position, reads_string = options.operands, options.reads_string
    if reads_string and position < len(argv):
        return NestedScript(position, "script", drops)
    return _Stop(index)


def _python(argv: list[str], index: int, drops: str | None) -> _Step:
    """`python [options] -m MODULE ...` or `python [options] SCRIPT ...`."""
    position = index + 1
    while position < len(argv):
        arg = argv[position]
        if arg == "--":
            position += 1
            break
        if arg == "-" or not arg.startswith("-"):
            break
        if arg.startswith("--"):
            position += 2 if arg == "--check-hash-based-pycs" else 1
            continue
        for letter_at in range(1, len(arg)):
            letter = arg[letter_at]
            if letter not in "cmWX":
                continue
            attached = letter_at + 1 < len(arg)
            value_index = position if attached else position + 1
            if letter == "c" or value_index >= len(argv):
                return _Stop(index)  # python -c CODE
            if letter == "m":
                module = arg[letter_at + 1 :] if attached else argv[value_index]
                return _python_module(argv, index, module, value_index, drops)
            position = value_index
            break
        position += 1
    if position >= len(argv) or argv[position] == "-":
        return _Stop(index)
    script = _basename(argv[position])
    if script == "celery":
        return _celery_invocation(argv, index, position + 1, drops)
    return _fallback(argv, position, script)


def _python_module(
    argv: list[str], program_index: int, module: str, module_index: int, drops: str | None
) -> _Step:
    """What `python -m MODULE` runs; argv[module_index] holds the module name."""
    if module in _CELERY_MODULES:
        return _celery_invocation(argv, program_index, module_index + 1, drops)
    if module == "watchfiles":
        return _watchfiles(argv, module_index, drops)
    if module == "watchdog.watchmedo":
        return _watchmedo(argv, module_index, drops)
    return _fallback(argv, module_index, module)


def _su(argv: list[str], index: int, name: str, drops: str | None) -> _Step:
    """`su [-] USER -c SCRIPT`, `su -c SCRIPT USER`, `runuser -u USER [--] COMMAND...`."""
    short_values = "cgGswu" if name == "runuser" else "cgGsw"
    long_values = {"--command", "--session-command", "--group", "--supp-group", "--shell"}
    long_values |= {"--whitelist-environment", "--user"}
    script: tuple[int, int] | None = None  # token index and offset of the -c string
    user: str | None = None
    operands: list[int] = []
    position = index + 1
    while position < len(argv):
        arg = argv[position]
        if arg == "--":
            operands.extend(range(position + 1, len(argv)))
            break
        if name == "runuser" and user is not None and operands:
            break  # runuser -u USER COMMAND ...: the rest is the command
        if arg == "-" or not arg.startswith("-"):
            if arg != "-":
                operands.append(position)
            position += 1
            continue
        option, value_index, offset = _su_option(argv, position, short_values, long_values)
        if option in ("c", "--command", "--session-command") and value_index < len(argv):
            script = (value_index, offset)
        if option in ("u", "--user") and value_index < len(argv):
            user = argv[value_index][offset:]
        position = max(position + 1, value_index + 1)
    if user is not None:  # runuser -u USER: runs the command itself
        if not operands:
            return _Stop(index)
        return operands[0], None if _is_root(user) else name
    target = argv[operands[0]] if operands else "root"  # su without a user is su root
    if script is None:
        return _Stop(index)
    return NestedScript(script[0], "script", None if _is_root(target) else name, (), script[1])


def _su_option(
    argv: list[str], position: int, short_values: str, long_values: set[str]
) -> tuple[str, int, int]:
    """The option at argv[position] taking a value, with the value's token and offset.

    Returns ("", position, 0) for flags.
    """
    arg = argv[position]
    if arg.startswith("--"):
        option, equals, _ = arg.partition("=")
        if option not in long_values:
            return "", position, 0
        return (option, position, len(option) + 1) if equals else (option, position + 1, 0)
    for letter_at in range(1, len(arg)):
        if arg[letter_at] in short_values:
            if letter_at + 1 < len(arg):
                return arg[letter_at], position, letter_at + 1
            return arg[letter_at], position + 1, 0
    return "", position, 0


def _exec(argv: list[str], index: int, drops: str | None) -> _Step:
    return _skip_options(argv, index + 1, "a"), drops


def _env(argv: list[str], index: int, drops: str | None) -> _Step:
    position = index + 1
    while position < len(argv) and argv[position] == "-":
        position += 1  # `env -` is `env -i`
    long_values = frozenset({"--unset", "--chdir", "--split-string"})
    position, options = _getopt(argv, position, "uCS", long_values)
    if any(option in ("-S", "--split-string") for option, _ in options):
        return _Stop(index)  # env -S splits a string of its own: not followed
    return position, drops


def _nice(argv: list[str], index: int, drops: str | None) -> _Step:
    return _skip_options(argv, index + 1, "n", frozenset({"--adjustment"})), drops


def _nohup(argv: list[str], index: int, drops: str | None) -> _Step:
    return _skip_options(argv, index + 1), drops


def _time(argv: list[str], index: int, drops: str | None) -> _Step:
    return _skip_options(argv, index + 1, "fo", frozenset({"--format", "--output"})), drops


def _timeout(argv: list[str], index: int, drops: str | None) -> _Step:
    long_values = frozenset({"--signal", "--kill-after"})
    return _skip_options(argv, index + 1, "sk", long_values) + 1, drops  # then DURATION


def _command(argv: list[str], index: int, drops: str | None) -> _Step:
    position, options = _getopt(argv, index + 1)
    if any(option in ("-v", "-V") for option, _ in options):
        return _Stop(index)  # command -v: a lookup, runs nothing
    return position, drops


def _dumb_init(argv: list[str], index: int, drops: str | None) -> _Step:
    return _skip_options(argv, index + 1, "r", frozenset({"--rewrite"})), drops


def _tini(argv: list[str], index: int, drops: str | None) -> _Step:
    return _skip_options(argv, index + 1, "pe"), drops


def _busybox(argv: list[str], index: int, drops: str | None) -> _Step:
    return index + 1, drops  # busybox APPLET ...


def _ddtrace_run(argv: list[str], index: int, drops: str | None) -> _Step:
    return _skip_options(argv, index + 1), drops  # flags only (-d, -i, -p)


def _opentelemetry_instrument(argv: list[str], index: int, drops: str | None) -> _Step:
    # argparse options generated from the OTEL_* settings: each one takes a value.
    position = index + 1
    while position < len(argv) and argv[position].startswith("-"):
        arg = argv[position]
        if arg == "--":
            return position + 1, drops
        flag = "=" in arg or arg in ("-h", "--help", "--version")
        position += 1 if flag else 2
    return position, drops


def _newrelic_admin(argv: list[str], index: int, drops: str | None) -> _Step:
    command = argv[index + 1] if index + 1 < len(argv) else ""
    if command == "run-program":
        return index + 2, drops
    if command == "run-python":
        return _python(argv, index + 1, drops)
    return _Stop(index)


def _gosu(argv: list[str], index: int, drops: str | None) -> _Step:
    """`gosu USER COMMAND`, `su-exec USER COMMAND`, `s6-setuidgid USER COMMAND`."""
    if index + 1 >= len(argv):
        return _Stop(index)
    user = argv[index + 1]
    return index + 2, None if _is_root(user) else _basename(argv[index])


def _chpst(argv: list[str], index: int, drops: str | None) -> _Step:
    position, options = _getopt(argv, index + 1, "uUbe/nlLmdopfcrt")
    user = _switch_user(options, ("-u",))  # -U only sets $UID/$GID for the command
    return position, drops if user is None else None if _is_root(user) else "chpst"


_SETPRIV_VALUES = frozenset(
    {
        "--reuid", "--regid", "--ruid", "--euid", "--rgid", "--egid", "--groups", "--inh-caps",
        "--ambient-caps", "--bounding-set", "--securebits", "--pdeathsig", "--selinux-label",
        "--apparmor-profile", "--landlock-access", "--landlock-rule", "--seccomp-filter",
    }
)  # fmt: skip


def _setpriv(argv: list[str], index: int, drops: str | None) -> _Step:
    position, options = _getopt(argv, index + 1, "", _SETPRIV_VALUES)
    user = _switch_user(options, ("--reuid", "--ruid", "--euid"))
    return position, drops if user is None else None if _is_root(user) else "setpriv"


_SUDO_VALUES = frozenset(
    {
        "--user", "--group", "--close-from", "--chdir", "--host", "--prompt", "--role",
        "--type", "--command-timeout", "--other-user",
    }
)  # fmt: skip


def _sudo(argv: list[str], index: int, drops: str | None) -> _Step:
    position, options = _getopt(argv, index + 1, "ugCDhprtTU", _SUDO_VALUES)
    user = _switch_user(options, ("-u", "--user"))  # sudo without -u runs as root
    return position, None if user is None or _is_root(user) else "sudo"


_RUNNER_VALUES = frozenset(
    {
        "--with", "--with-editable", "--with-requirements", "--env-file", "--python", "-p",
        "--project", "--directory", "--package", "--extra", "--group", "--only-group",
        "--no-group", "--index", "--index-url", "--default-index", "--extra-index-url",
        "--find-links", "-f", "--cache-dir", "--config-file", "--upgrade-package", "-P",
        "--reinstall-package", "--no-binary-package", "--no-build-package", "--refresh-package",
        "--resolution", "--prerelease", "--link-mode", "--index-strategy", "--keyring-provider",
        "--exclude-newer", "--python-platform", "--color", "-C", "--config-setting", "-w",
        "--venv",
    }
)  # fmt: skip


def _runner(argv: list[str], index: int, drops: str | None) -> _Step:
    """`uv run`, `poetry run`, `pipenv run`, `pdm run` (with their options) COMMAND..."""
    position = index + 1
    while position < len(argv) and argv[position] != "run":
        if not argv[position].startswith("-"):
            return _Stop(index)  # another subcommand (`poetry install`)
        position += 2 if argv[position] in _RUNNER_VALUES else 1
    position += 1
    while position < len(argv):
        arg = argv[position]
        if arg == "--":
            return position + 1, drops
        if not arg.startswith("-") or arg == "-":
            break
        if arg in ("-m", "--module") and position + 1 < len(argv):  # uv run -m MODULE
            return _python_module(argv, position, argv[position + 1], position + 1, drops)
        attached = "=" in arg or (not arg.startswith("--") and len(arg) > 2)
        position += 2 if arg in _RUNNER_VALUES and not attached else 1
    return position, drops


_WATCHMEDO_VALUES = frozenset(
    {
        "-d", "--directory", "-p", "--pattern", "--patterns", "-i", "--ignore-pattern",
        "--ignore-patterns", "--interval", "--timeout", "--signal", "--kill-after",
        "--debounce-interval",
    }
)  # fmt: skip


def _watchmedo(argv: list[str], index: int, drops: str | None) -> _Step:
    """`watchmedo auto-restart [options] -- COMMAND ARGS...` (or COMMAND without options)."""
    if index + 1 >= len(argv) or argv[index + 1] != "auto-restart":
        return _Stop(index)
    position = index + 2
    while position < len(argv):
        arg = argv[position]
        if arg == "--":
            return position + 1, drops
        if not arg.startswith("-"):
            break
        position += 2 if arg in _WATCHMEDO_VALUES else 1
    if "--" in argv[position:]:
        # `watchmedo ... celery -- -A proj worker`: argparse drops the `--` between the
        # command and its arguments, so options appended to them would reach watchmedo.
        if _basename(argv[position]) == "celery":
            return WrappedCelery("watchmedo", position)
        return _Stop(index)
    return position, drops


_WATCHFILES_VALUES = frozenset(
    {
        "--ignore-paths", "--target-type", "--filter", "--args", "--verbosity",
        "--sigint-timeout", "--sigkill-timeout", "--grace-period",
    }
)  # fmt: skip


def _watchfiles(argv: list[str], index: int, drops: str | None) -> _Step:
    """`watchfiles [options] TARGET [paths]`: TARGET is a function (with --args) or a command."""
    args: tuple[int, int] | None = None
    target: int | None = None
    target_type = "auto"
    position = index + 1
    while position < len(argv):
        arg = argv[position]
        option, equals, _ = arg.partition("=")
        if arg.startswith("--") and option in _WATCHFILES_VALUES:
            if equals:
                value_at: tuple[int, int] | None = (position, len(option) + 1)
                position += 1
            elif position + 1 < len(argv) and _argparse_value(argv[position + 1]):
                value_at = (position + 1, 0)
                position += 2
            else:
                value_at = None
                position += 1
            if value_at is not None and option == "--args":
                args = value_at
            if value_at is not None and option == "--target-type":
                target_type = argv[value_at[0]][value_at[1] :]
        elif _argparse_value(arg) and target is None:
            target = position
            position += 1
        else:
            position += 1
    if target is None:
        return _Stop(index)
    if target_type == "auto":
        target_type = _watchfiles_target_type(argv[target])
    if target_type == "command":
        return NestedScript(target, "argv", drops)
    if argv[target] in _CELERY_MAINS and args is not None:
        return NestedScript(args[0], "argv", drops, ("celery",), args[1])
    return _Stop(index)


def _argparse_value(arg: str) -> bool:
    """Whether argparse reads `arg` as a value rather than an option string."""
    return not arg.startswith("-") or arg == "-" or " " in arg


def _watchfiles_target_type(target: str) -> str:
    # watchfiles.run.detect_target_type
    if target.endswith((".py", ".sh")):
        return "command"
    if re.fullmatch(r"[a-zA-Z0-9_]+(\.[a-zA-Z0-9_]+)+", target):
        return "function"
    return "command"


_LAUNCHERS = {
    "exec": _exec,
    "env": _env,
    "nice": _nice,
    "nohup": _nohup,
    "time": _time,
    "timeout": _timeout,
    "command": _command,
    "dumb-init": _dumb_init,
    "busybox": _busybox,
    "ddtrace-run": _ddtrace_run,
    "opentelemetry-instrument": _opentelemetry_instrument,
    "newrelic-admin": _newrelic_admin,
    "gosu": _gosu,
    "su-exec": _gosu,
    "s6-setuidgid": _gosu,
    "chpst": _chpst,
    "setpriv": _setpriv,
    "sudo": _sudo,
    "uv": _runner,
    "poetry": _runner,
    "pipenv": _runner,
    "pdm": _runner,
    "watchmedo": _watchmedo,
    "watchfiles": _watchfiles,
}
