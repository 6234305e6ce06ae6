"""What an edit means when it runs: the added flags reach the celery process.

The verify step compares texts and YAML nodes; it cannot tell whether a shell will hand the
inserted flags to celery. Here the real programs decide: the real compose loader
(`docker-compose config`, compose-go) turns the fixed compose file into the argv a container
would run, a real `sh`/`bash` runs it, and a fake `celery` first on PATH records its arguments.
After the fix, every celery invocation has its old arguments plus the flags, or the file was
left alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from oracles.compose_loader import compose_config
from strategies import write_repo

from celeryfix.config import resolve_options
from celeryfix.engine import plan_repository

FLAGS = {
    "--uid=nobody",
    "--gid=nogroup",
    "--schedule=/tmp/celerybeat-schedule",
    "--schedule-filename=/tmp/celerybeat-schedule",
}
# One write per invocation (celery may run twice at once, `&`): its arguments, unit-separated.
FAKE_CELERY = '#!/bin/sh\nline=$(printf "%s\\037" "$@")\nprintf "%s\\n" "$line" >> "$CELERY_ARGS"\n'


def celery_argvs(folder: Path, compose: str) -> list[list[str]]:
    """Run the worker service's command as compose resolves it; each celery argv it started."""
    case = folder / "run"
    shutil.rmtree(case, ignore_errors=True)
    write_repo(case, {"docker-compose.yml": compose})
    command = compose_config(case, ["docker-compose.yml"])["services"]["w"]["command"]
    fake = folder / "bin"
    if not fake.exists():
        write_repo(fake, {"celery": FAKE_CELERY, "python": "#!/bin/sh\nexit 0\n"})
        for program in fake.iterdir():
            program.chmod(0o755)
    record = folder / "celery-args"
    record.write_text("")
    subprocess.run(
        command,
        env={"PATH": f"{fake}:/usr/bin:/bin", "CELERY_ARGS": str(record)},
        cwd=folder,
        check=True,
        timeout=30,
    )
    # In a stable order: invocations started with `&` may record in either order.
    return sorted(line.split("\x1f")[:-1] for line in record.read_text().splitlines())


def fixed(folder: Path, compose: str) -> str:
    root = write_repo(folder / "repo", {"docker-compose.yml": compose})
    result = plan_repository(root, resolve_options(root, {}))
    assert result.error is None, result.error
    return next((c.new_text for c in result.changes), compose)


def check_flags_reach_celery(tmp_path: Path, command: str) -> None:
    compose = f"services:\n  w:\n    image: app\n    command: {command}\n"
    after = fixed(tmp_path, compose)
    if after == compose:
        return  # left alone: fine, nothing is claimed
    old, new = celery_argvs(tmp_path, compose), celery_argvs(tmp_path, after)
    assert len(old) == len(new) >= 1
    new = sorted(new, key=lambda argv: [a for a in argv if a not in FLAGS])
    for before, now in zip(old, new, strict=True):
        assert [a for a in now if a not in FLAGS] == before, (before, now)
        assert {"--uid=nobody", "--gid=nogroup"} <= set(now), (
            f"the file was fixed, yet celery runs without the flags: {now}\n{after}"
        )


REACHED = [
    ("plain", "celery -A proj worker -l info"),
    ("exec-form", '["celery", "-A", "proj", "worker"]'),
    ("sh-c-double", 'sh -c "python manage.py migrate && celery -A proj worker -l info"'),
    ("bash-c-two", "bash -c 'celery -A proj worker -l info & celery -A proj beat; wait'"),
    ("sh-c-exec-form", '["sh", "-c", "exec celery -A proj worker"]'),
    ("sh-c-folded", ">\n      sh -c 'python manage.py migrate &&\n      celery -A proj worker'"),
    ("sh-c-redirect", "sh -c 'celery -A proj worker >> /tmp/worker.log 2>&1'"),
    ("sh-c-two-quoted-pieces", "sh -c 'celery -A proj worker'' -l info'"),
]


@pytest.mark.parametrize("command", [c[1] for c in REACHED], ids=[c[0] for c in REACHED])
def test_the_flags_reach_celery(tmp_path: Path, command: str) -> None:
    check_flags_reach_celery(tmp_path, command)


CONCATENATED = [
    ("quote-closed-before-the-last-word", 'sh -c "celery -A proj worker -l "info'),
    ("escaped-spaces", "sh -c celery\\ -A\\ proj\\ worker"),
    ("quote-then-escaped-space", "sh -c 'celery -A proj'\\ worker"),
]


@pytest.mark.parametrize("command", [c[1] for c in CONCATENATED], ids=[c[0] for c in CONCATENATED])
def test_the_flags_reach_celery_from_a_concatenated_script_word(
    tmp_path: Path, command: str
) -> None:
    check_flags_reach_celery(tmp_path, command)


def test_the_oracle_runs_real_programs(tmp_path: Path) -> None:
    assert os.access("/bin/sh", os.X_OK) and shutil.which("bash")
    argvs = celery_argvs(
        tmp_path, "services:\n  w:\n    image: app\n    command: sh -c 'celery a; celery \"b c\"'\n"
    )
    assert argvs == [["a"], ["b c"]]
