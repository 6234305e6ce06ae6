"""Every transformed CF103/CF104 case against real oracles.

- The shell itself: each script (and each Dockerfile's default command) is run, before and
  after, by dash or bash with every program it starts replaced by a stub that records its argv.
  The runs start the same programs with the same arguments, except for the added options.
- Celery's own click parser on every recorded celery argv that changed: uid/gid (and the beat
  schedule) as intended, every other parameter and argument unchanged.
- `dash -n` accepts every edited script and every edited shell-form instruction.

The Dockerfile's default command is read here independently of celeryfix: instructions joined
as Docker joins them, exec form by `json.loads`, stages followed by their names.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from oracles.celery_cli import parse_with_celery
from rules.test_cf103_script_runs_as_root import TRANSFORMED as SCRIPT_CASES
from rules.test_cf103_script_runs_as_root import Case as ScriptCase
from rules.test_cf104_dockerfile_runs_as_root import TRANSFORMED as DOCKERFILE_CASES
from rules.test_cf104_dockerfile_runs_as_root import Case as DockerfileCase

FLAGS = (
    "--uid=nobody",
    "--gid=nogroup",
    "--gid=nobody",
    "--schedule=/tmp/celerybeat-schedule",
    "--schedule-filename=/tmp/celerybeat-schedule",
)
STUBS = (
    "celery",
    "newrelic-admin",
    "watchfiles",
    "watchmedo",
    "python",
    "python3",
    "nc",
    "tini",
    "gunicorn",
)
RECORDER = """\
import json, os, sys
with open(os.environ["ORACLE_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
"""


@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    folder = tmp_path / "stubs"
    folder.mkdir()
    for name in STUBS:
        stub = folder / name
        stub.write_text(f"#!{sys.executable}\n{RECORDER}", encoding="utf-8")
        stub.chmod(0o755)
    return folder


def _run(argv: list[str], stubs: Path, env: dict[str, str], cwd: Path) -> list[list[str]]:
    log = cwd / "oracle.log"
    log.write_text("")
    environment = {
        "PATH": f"{stubs}:/usr/bin:/bin",
        "HOME": str(cwd),
        "ORACLE_LOG": str(log),
        **env,
    }
    done = subprocess.run(argv, cwd=cwd, env=environment, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in log.read_text().splitlines()]


def _strip(record: list[str]) -> list[str]:
    """The record without the added options (as items, or inside an item)."""
    kept = [item for item in record if item not in FLAGS]
    for flag in FLAGS:
        kept = [item.replace(" " + flag, "") for item in kept]
    return kept


def celery_argv(record: list[str]) -> list[str] | None:
    """The arguments Celery receives from a recorded command, if it starts Celery."""
    program, args = record[0], record[1:]
    if program == "celery":
        return args
    if program == "tini" and args[:1] == ["--"]:
        return celery_argv(args[1:])
    if program == "newrelic-admin" and args[:2] == ["run-program", "celery"]:
        return args[2:]
    if program == "watchmedo" and "--" in args:
        rest = args[args.index("--") + 1 :]
        return rest[1:] if rest[:1] == ["celery"] else None
    if program in ("python", "python3") and args[:2] == ["-m", "celery"]:
        return args[2:]
    if program == "watchfiles" and "celery.__main__.main" in args and "--args" in args:
        return shlex.split(args[args.index("--args") + 1])
    return None


def check_records(old: list[list[str]], new: list[list[str]]) -> int:
    """Same commands but for the added options; returns how many celery argvs changed."""
    assert sorted(map(json.dumps, old)) == sorted(json.dumps(_strip(r)) for r in new)
    changed = 0
    for after in new:
        before = _strip(after)
        if before == after:
            continue
        was_argv, now_argv = celery_argv(before), celery_argv(after)
        assert was_argv is not None and now_argv is not None, (before, after)
        check_celery(was_argv, now_argv)
        changed += 1
    return changed


def check_celery(old_argv: list[str], new_argv: list[str]) -> None:
    was: dict[str, Any] = parse_with_celery(old_argv)
    now: dict[str, Any] = parse_with_celery(new_argv)
    assert now["subcommand"] == was["subcommand"]
    assert now["global"] == was["global"]
    assert now["args"] == was["args"]
    changed = {k for k in now["params"] if now["params"][k] != was["params"][k]}
    assert {"uid", "gid"} <= changed <= {"uid", "gid", "schedule", "schedule_filename"}
    assert now["params"]["uid"] == "nobody"
    assert now["params"]["gid"] in {"nogroup", "nobody"}
    for key in changed - {"uid", "gid"}:
        assert now["params"][key] == "/tmp/celerybeat-schedule"


def _shell_for(script: str) -> str:
    first = script.split("\n", 1)[0]
    return "bash" if "bash" in first else "dash"


# --- CF103: scripts ------------------------------------------------------------------------------


@pytest.mark.oracle
@pytest.mark.parametrize("case", SCRIPT_CASES, ids=[c.id for c in SCRIPT_CASES])
def test_scripts_run_the_same_commands_plus_the_options(
    tmp_path: Path, stubs: Path, case: ScriptCase
) -> None:
    changed = 0
    for args in case.runs:
        runs = []
        for name, text in (("before", case.before), ("after", case.after)):
            script = tmp_path / name
            script.write_text(text.replace("\r\n", "\n"), encoding="utf-8")
            argv = [_shell_for(text), str(script), *args]
            runs.append(_run(argv, stubs, case.env, tmp_path))
        changed += check_records(*runs)
    assert changed >= 1


@pytest.mark.oracle
@pytest.mark.parametrize("case", SCRIPT_CASES, ids=[c.id for c in SCRIPT_CASES])
def test_dash_accepts_the_edited_script(tmp_path: Path, case: ScriptCase) -> None:
    script = tmp_path / "script"
    script.write_text(case.after.replace("\r\n", "\n"), encoding="utf-8")
    done = subprocess.run(["dash", "-n", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# --- CF104: Dockerfiles --------------------------------------------------------------------------


def _logical_lines(text: str) -> list[str]:
    """Instructions as Docker reads them: `\\` joins lines, comment and empty lines inside a
    continued instruction are dropped, `\\r` ends nothing."""
    lines, current = [], None
    for raw in text.replace("\r\n", "\n").split("\n"):
        if current is not None and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        if current is None and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        body = raw.rstrip()
        joined = (current or "") + (body[:-1] if body.endswith("\\") else raw)
        if body.endswith("\\"):
            current = joined
        else:
            lines.append(joined)
            current = None
    if current is not None:
        lines.append(current)
    return lines


def _form(arguments: str) -> list[str]:
    try:
        value = json.loads(arguments)
    except ValueError:
        value = None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return ["/bin/sh", "-c", arguments]


def default_command(text: str) -> list[str]:
    """The argv a container of the image starts with (ENTRYPOINT + CMD of the final stage)."""
    named: dict[str, tuple[list[str] | None, list[str] | None]] = {}
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    cmd_here, name = False, None
    for line in _logical_lines(text):
        keyword, _, arguments = line.strip().partition(" ")
        keyword, arguments = keyword.upper(), arguments.strip()
        if keyword == "FROM":
            words = [word for word in arguments.split() if not word.startswith("--")]
            entrypoint, cmd = named.get(words[0].lower(), (None, None))
            cmd_here = False
            name = words[2].lower() if len(words) >= 3 and words[1].upper() == "AS" else None
        elif keyword == "CMD":
            cmd, cmd_here = _form(arguments), True
        elif keyword == "ENTRYPOINT":
            entrypoint = _form(arguments)
            if not cmd_here:
                cmd = None  # an ENTRYPOINT resets the CMD of the image it builds on
        if name is not None:
            named[name] = (entrypoint, cmd)
    if entrypoint is not None and entrypoint[:2] == ["/bin/sh", "-c"]:
        return entrypoint  # shell form ignores CMD
    return (entrypoint or []) + (cmd or [])


@pytest.mark.oracle
@pytest.mark.parametrize("case", DOCKERFILE_CASES, ids=[c.id for c in DOCKERFILE_CASES])
def test_default_commands_run_the_same_plus_the_options(
    tmp_path: Path, stubs: Path, case: DockerfileCase
) -> None:
    old, new = default_command(case.before), default_command(case.after)
    runs = [_run(argv, stubs, {}, tmp_path) for argv in (old, new)]
    assert check_records(*runs) == 1


@pytest.mark.oracle
@pytest.mark.parametrize(
    "case",
    [c for c in DOCKERFILE_CASES if default_command(c.after)[:2] == ["/bin/sh", "-c"]],
    ids=lambda c: c.id,
)
def test_dash_accepts_the_edited_shell_form(case: DockerfileCase) -> None:
    script = default_command(case.after)[2]
    done = subprocess.run(["dash", "-n", "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_independent_reader_knows_the_forms() -> None:
    assert default_command('FROM a\nCMD ["x", "y"]\n') == ["x", "y"]
    assert default_command("FROM a\nCMD x \\\n  # c\n  y\n") == ["/bin/sh", "-c", "x   y"]
    assert default_command('FROM a AS b\nCMD ["x"]\nFROM b\nENTRYPOINT ["e"]\n') == ["e"]
    assert default_command('FROM a AS b\nCMD ["x"]\nFROM b\n') == ["x"]
    assert default_command('FROM a\nENTRYPOINT e\nCMD ["x"]\n') == ["/bin/sh", "-c", "e"]
