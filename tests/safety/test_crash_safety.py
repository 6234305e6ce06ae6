"""Kill -9 during a bulk apply: every file is exactly as before or exactly as a clean run makes
it, no temporary file is left behind, and a second run finishes the job.

Over 100 small generated repositories (a compose file, a start script, a Django settings module:
three files to write in each), `celeryfix apply` runs in a subprocess of its own process group
and is killed with SIGKILL at seeded random moments: most of them inside the write phase, which
starts when the first file changes on disk, and some anywhere in the run.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from strategies import DJANGO_APP, celeryfix_command, snapshot, write_repo

REPOSITORIES = 100
SEED = 20240917
COMMANDS = (
    "celery -A proj worker -l info",
    '["celery", "-A", "proj", "beat"]',
    "sh -c 'python manage.py migrate && celery -A proj worker -B'",
    "|\n      celery -A proj worker --concurrency=2",
)


def generate(top: Path) -> list[str]:
    """The repositories, with a little variety (command forms, CRLF, modes, sizes)."""
    chooser = random.Random(SEED)
    names = []
    for index in range(REPOSITORIES):
        name = f"r{index:03d}"
        command = chooser.choice(COMMANDS)
        compose = (
            "services:\n"
            "  worker:\n    build: .\n"
            f"    command: {command}\n"
            "  jobs:\n    build: .\n    command: ./start.sh\n"
            + "  # padding\n"
            * chooser.randrange(0, 40)
        )
        settings = "DEBUG = True\nCELERY_BROKER_URL = 'redis://'\n" + "X = 1\n" * chooser.randrange(
            0, 30
        )
        if chooser.random() < 0.3:
            compose, settings = compose.replace("\n", "\r\n"), settings.replace("\n", "\r\n")
        root = write_repo(
            top / name,
            {
                "docker-compose.yml": compose,
                "start.sh": "#!/bin/sh\nexec celery -A proj worker -Q mail\n",
                "proj/__init__.py": "",
                "proj/celery.py": DJANGO_APP,
                "proj/settings.py": settings,
            },
        )
        (root / "start.sh").chmod(0o755)
        (root / "proj/settings.py").chmod(chooser.choice((0o644, 0o600, 0o640)))
        names.append(name)
    return names


def start(folder: Path, names: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*celeryfix_command(), "apply", "-q", "-j", "2", *names],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the planning workers die with it
    )


def wait_for_first_write(process: subprocess.Popen[bytes], first: Path) -> float | None:
    """The moment the first file of the run changes (None: the run ended before)."""
    original = first.read_bytes()
    while process.poll() is None:
        try:
            if first.read_bytes() != original:
                return time.monotonic()
        except OSError:
            pass
        time.sleep(0.0005)
    return None


def kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], dict, dict, float]:
    """The pristine repositories, their names, the files before and after a clean run, and how
    long the clean run's write phase took."""
    top = tmp_path_factory.mktemp("crash")
    pristine = top / "pristine"
    names = generate(pristine)
    clean = top / "clean"
    shutil.copytree(pristine, clean)
    process = start(clean, names)
    first_write = wait_for_first_write(process, clean / names[0] / "docker-compose.yml")
    assert process.wait(timeout=300) == 0, process.stderr.read() if process.stderr else ""
    assert first_write is not None
    writing = time.monotonic() - first_write
    return pristine, names, snapshot(pristine), snapshot(clean), writing


def moments() -> list[tuple[str, float, bool]]:
    """(where, fraction, rerun): in the write phase (a fraction of its length after the first
    write), or anywhere (a fraction of the first 4 s); seeded, so a failure can be replayed.
    `rerun`: then run again, uninterrupted, and expect exactly the clean run's files."""
    chooser = random.Random(SEED + 1)
    return [
        ("writing", 0.0, False),
        ("writing", chooser.random(), True),
        ("writing", chooser.random(), False),
        ("anywhere", chooser.random(), False),
    ]


@pytest.mark.parametrize(
    ("where", "fraction", "rerun"),
    moments(),
    ids=[f"{where}-{fraction:.3f}" for where, fraction, _ in moments()],
)
def test_kill_9_leaves_every_file_before_or_after(
    tmp_path: Path,
    runs: tuple[Path, list[str], dict, dict, float],
    where: str,
    fraction: float,
    rerun: bool,
) -> None:
    pristine, names, before, after, writing = runs
    folder = tmp_path / "repos"
    shutil.copytree(pristine, folder)
    process = start(folder, names)
    started = time.monotonic()
    if where == "writing":
        first_write = wait_for_first_write(process, folder / names[0] / "docker-compose.yml")
        assert first_write is not None, (
            f"the run ended before it wrote anything: {process.stderr.read() if process.stderr else ''}"
        )
        time.sleep(max(0.0, first_write + fraction * writing - time.monotonic()))
    else:
        time.sleep(fraction * 4.0)
    kill(process)
    killed_after = time.monotonic() - started

    now = snapshot(folder)
    temps = sorted(p for p in now if p.endswith(".celeryfix-tmp"))
    assert temps == [], f"temporary files left behind: {temps[:5]}"
    assert set(now) == set(before), "no file appears or disappears"
    torn = [p for p in now if now[p] != before[p] and now[p] != after[p]]
    assert torn == [], f"files neither before nor after: {torn[:5]}"
    done = sum(1 for p in now if now[p] == after[p] != before[p])
    total = sum(1 for p in before if after[p] != before[p])
    print(f"killed {where} after {killed_after:.2f}s: {done}/{total} files written")

    # A second, uninterrupted run finishes the job: exactly what a clean run makes.
    if rerun:
        rerun = subprocess.run(
            [*celeryfix_command(), "apply", "-q", *names], cwd=folder, capture_output=True
        )
        assert rerun.returncode == 0, rerun.stderr
        assert snapshot(folder) == after


# --------------------------------------------------------------------------- the writer itself


def test_a_file_being_written_has_no_name_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While its bytes are written and synced, the new file has no name in the folder (Linux's
    O_TMPFILE): a kill -9 then leaves nothing behind. It gets one only to be renamed."""
    from celeryfix import writer

    target = write_repo(tmp_path, {"docker-compose.yml": "old\n"}) / "docker-compose.yml"
    seen: list[list[str]] = []
    real_fsync = os.fsync

    def spy(descriptor: int) -> None:
        seen.append(sorted(os.listdir(tmp_path)))
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", spy)
    writer.write_atomic(target, b"new\n", tmp_path)
    assert seen and seen[0] == ["docker-compose.yml"]
    assert target.read_bytes() == b"new\n" and sorted(os.listdir(tmp_path)) == [
        "docker-compose.yml"
    ]


def test_without_unnamed_files_a_named_temp_file_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from celeryfix import writer

    monkeypatch.setattr(writer, "_unnamed_file", lambda folder: None)
    target = write_repo(tmp_path, {"settings.py": "A = 1\n"}) / "settings.py"
    target.chmod(0o640)
    writer.write_atomic(target, b"A = 2\n", tmp_path)
    assert target.read_bytes() == b"A = 2\n" and stat_mode(target) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["settings.py"]


def test_root_keeps_the_owner_of_a_user_file(tmp_path: Path) -> None:
    """root fixing a checkout that belongs to someone else leaves their files theirs."""
    import pwd

    from celeryfix import writer

    nobody = pwd.getpwnam("nobody")
    assert os.geteuid() == 0, "the suite runs as root (CI does)"
    target = write_repo(tmp_path, {"docker-compose.yml": "old\n"}) / "docker-compose.yml"
    os.chown(target, nobody.pw_uid, nobody.pw_gid)
    target.chmod(0o2640)  # set-gid: chown would clear it, so the mode is set after
    writer.write_atomic(target, b"new\n", tmp_path)
    status = target.stat()
    assert (status.st_uid, status.st_gid) == (nobody.pw_uid, nobody.pw_gid)
    assert stat_mode(target) == 0o2640


def stat_mode(path: Path) -> int:
    import stat

    return stat.S_IMODE(path.stat().st_mode)
