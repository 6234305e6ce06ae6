"""As a user without privileges: unreadable files and folders, read-only targets.

Root reads and writes everything, so these run celeryfix for real as `nobody` (setpriv, as the
end-to-end harness does). The venv's interpreter lives under /root, which `nobody` cannot
read, so the run uses Debian's /usr/bin/python3 with a world-readable copy of celeryfix and
of the installed distributions it needs (same Python minor version: the compiled parts of
libcst load as they are); when the minor versions differ, a venv is built from
/usr/bin/python3 and the project installed into it with pip.
"""

from __future__ import annotations

import importlib.metadata
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from strategies import DJANGO_APP, REPO_ROOT, Ran, snapshot, write_repo

SYSTEM_PYTHON = "/usr/bin/python3"
AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
NOBODY = pwd.getpwnam("nobody")

COMPOSE = "services:\n  worker:\n    build: .\n    command: celery -A proj worker -l info\n"
COMPOSE_FIXED = COMPOSE.replace("info\n", "info --uid=nobody --gid=nogroup\n")
SETTINGS = "DEBUG = True\nCELERY_BROKER_URL = 'redis://'\n"
ADDED = (
    "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True\n"
    "CELERY_WORKER_HIJACK_ROOT_LOGGER = False\n"
    "CELERY_WORKER_LOG_COLOR = False\n"
)
REPO: dict[str, str | bytes] = {
    "docker-compose.yml": COMPOSE,
    "proj/__init__.py": "",
    "proj/celery.py": DJANGO_APP,
    "proj/settings.py": SETTINGS,
}


def _distributions(name: str) -> set[str]:
    """`name` and every installed distribution it needs (extras left out, markers ignored)."""
    found: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        key = re.sub(r"[-_.]+", "-", current).lower()
        if key in found:
            continue
        try:
            requires = importlib.metadata.distribution(current).requires or []
        except importlib.metadata.PackageNotFoundError:
            continue
        found.add(key)
        todo += [
            match.group()
            for requirement in requires
            if "extra ==" not in requirement
            and (match := re.match(r"[A-Za-z0-9._-]+", requirement))
        ]
    return found


def _copy_site(target: Path) -> None:
    """celeryfix's sources and the installed files of its dependencies, world-readable."""
    shutil.copytree(REPO_ROOT / "src" / "celeryfix", target / "celeryfix")
    for name in sorted(_distributions("celeryfix") - {"celeryfix"}):
        distribution = importlib.metadata.distribution(name)
        for file in distribution.files or []:
            if str(file).startswith("..") or file.suffix == ".pyc":
                continue
            source = Path(str(distribution.locate_file(file)))
            if source.is_file():
                destination = target / str(file)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination)


def _system_minor() -> str:
    done = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _world_readable(top: Path) -> None:
    for folder, _, files in os.walk(top):
        os.chmod(folder, 0o755)
        for name in files:
            path = Path(folder, name)
            path.chmod(stat.S_IMODE(path.stat().st_mode) | 0o444)


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """A world-searchable folder outside /root and pytest's private tmp folders."""
    top = Path(tempfile.mkdtemp(prefix="celeryfix-nobody-", dir="/tmp"))
    top.chmod(0o755)
    try:
        yield top
    finally:
        for folder, folders, _ in os.walk(top):
            for name in folders:
                Path(folder, name).chmod(0o755)  # unreadable test folders, so rmtree gets in
        shutil.rmtree(top)


@pytest.fixture(scope="module")
def nobody_python(workdir: Path) -> list[str]:
    """The command that runs celeryfix as `nobody`."""
    launcher = workdir / "launch.py"
    if _system_minor() == str(sys.version_info[:2]):
        site = workdir / "site"
        _copy_site(site)
        launcher.write_text(
            "import sys\n"
            f"sys.path.insert(0, {str(site)!r})\n"
            "from celeryfix.cli import main\n"
            "sys.argv[0] = 'celeryfix'\n"
            "main()\n"
        )
        python = SYSTEM_PYTHON
    else:  # another minor version: a venv of the system Python, the project installed in it
        venv = workdir / "venv"
        subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(venv)], check=True)
        project = workdir / "project"
        shutil.copytree(
            REPO_ROOT, project, ignore=shutil.ignore_patterns(".venv", ".git", "*cache*")
        )
        subprocess.run(
            [str(venv / "bin/python"), "-m", "pip", "install", "-q", str(project)], check=True
        )
        launcher.write_text(
            "import sys\nfrom celeryfix.cli import main\nsys.argv[0] = 'celeryfix'\nmain()\n"
        )
        python = str(venv / "bin/python")
    _world_readable(workdir)
    # -s: no user site; -B: no .pyc written (nobody could not anyway); the launcher's folder,
    # not the current one, is sys.path[0].
    return [*AS_NOBODY, python, "-s", "-B", str(launcher)]


def as_nobody(command: list[str], args: list[str], cwd: Path) -> Ran:
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "NO_COLOR": "1", "HOME": "/nonexistent"}
    done = subprocess.run(
        [*command, *args], cwd=cwd, capture_output=True, timeout=60, env=env, text=True
    )
    return Ran(done.returncode, done.stdout, done.stderr)


@pytest.fixture
def place(workdir: Path, request: pytest.FixtureRequest) -> Path:
    """A fresh folder of the work folder, owned by nobody."""
    folder = workdir / re.sub(r"\W", "-", request.node.name)
    folder.mkdir()
    os.chown(folder, NOBODY.pw_uid, NOBODY.pw_gid)
    return folder


def nobody_repo(folder: Path, files: dict[str, str | bytes] = REPO) -> Path:
    """A repository owned by nobody (so nobody may write it, unless a test says otherwise)."""
    write_repo(folder, files)
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    return folder


def test_the_runs_really_are_unprivileged(nobody_python: list[str], place: Path) -> None:
    done = subprocess.run(
        [
            *AS_NOBODY,
            SYSTEM_PYTHON,
            "-c",
            "import os; print(os.geteuid(), os.getegid(), os.getgroups())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split()[:2] == [str(NOBODY.pw_uid), str(NOBODY.pw_gid)]
    assert as_nobody(nobody_python, ["--version"], place).stdout.startswith("celeryfix ")
    nobody_repo(place / "repo")
    ran = as_nobody(nobody_python, ["apply", "-q", "repo"], place)
    assert ran.code == 0, ran
    assert (place / "repo/docker-compose.yml").read_text() == COMPOSE_FIXED


def check_one_error(ran: Ran, *fragments: str) -> str:
    assert ran.code == 2, ran
    assert "Traceback" not in ran.stderr, ran.stderr
    lines = ran.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), ran.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_unreadable_compose_file(nobody_python: list[str], place: Path) -> None:
    bad, good = nobody_repo(place / "bad"), nobody_repo(place / "good")
    (bad / "docker-compose.yml").chmod(0o000)
    before = snapshot(bad)
    ran = as_nobody(nobody_python, ["apply", "-q", "bad", "good"], place)
    check_one_error(ran, "docker-compose.yml", "Permission denied")
    assert snapshot(bad) == before
    assert (good / "docker-compose.yml").read_text() == COMPOSE_FIXED


def test_unreadable_settings_module_is_skipped_with_a_reason(
    nobody_python: list[str], place: Path
) -> None:
    repo = nobody_repo(place / "repo")
    (repo / "proj/settings.py").chmod(0o000)
    ran = as_nobody(nobody_python, ["apply", "repo"], place)
    assert ran.code == 0 and "Traceback" not in ran.stderr, ran
    assert any(
        line.startswith("skip: ") and "proj/settings.py" in line and "Permission denied" in line
        for line in ran.stderr.splitlines()
    ), ran.stderr
    (repo / "proj/settings.py").chmod(0o644)
    assert (repo / "proj/settings.py").read_text() == SETTINGS
    assert (repo / "docker-compose.yml").read_text() == COMPOSE_FIXED


def test_unreadable_folder_is_left_alone(nobody_python: list[str], place: Path) -> None:
    repo = nobody_repo(place / "repo")
    (repo / "proj").chmod(0o000)
    ran = as_nobody(nobody_python, ["apply", "repo"], place)
    (repo / "proj").chmod(0o755)
    assert ran.code == 0 and "Traceback" not in ran.stderr, ran
    assert (repo / "proj/settings.py").read_text() == SETTINGS
    assert (repo / "docker-compose.yml").read_text() == COMPOSE_FIXED


def test_unreadable_configuration(nobody_python: list[str], place: Path) -> None:
    repo = nobody_repo(place / "repo", {**REPO, "pyproject.toml": "[tool.celeryfix]\n"})
    (repo / "pyproject.toml").chmod(0o000)
    before = snapshot(repo)
    ran = as_nobody(nobody_python, ["apply", "-q", "repo"], place)
    check_one_error(ran, "pyproject.toml")
    assert snapshot(repo) == before


def test_read_only_folder_of_the_second_file_leaves_the_repository_as_it_was(
    nobody_python: list[str], place: Path
) -> None:
    """docker-compose.yml can be written, proj/settings.py cannot (its folder is read-only):
    nothing of the repository may stay written."""
    bad, good = nobody_repo(place / "bad"), nobody_repo(place / "good")
    (bad / "proj").chmod(0o555)
    before = snapshot(bad)
    ran = as_nobody(nobody_python, ["apply", "-q", "bad", "good"], place)
    (bad / "proj").chmod(0o755)
    check_one_error(ran, "proj")
    after = snapshot(bad)
    assert {p: data for p, (data, _) in after.items()} == {p: d for p, (d, _) in before.items()}
    assert after == before
    assert not [p for p in bad.rglob("*") if p.name.endswith(".celeryfix-tmp")]
    assert (good / "docker-compose.yml").read_text() == COMPOSE_FIXED


def test_read_only_repository_folder(nobody_python: list[str], place: Path) -> None:
    repo = nobody_repo(place / "repo")
    repo.chmod(0o555)
    before = snapshot(repo)
    ran = as_nobody(nobody_python, ["apply", "-q", "repo"], place)
    repo.chmod(0o755)
    check_one_error(ran, "docker-compose.yml")
    assert snapshot(repo) == before


def test_read_only_file_is_not_written(nobody_python: list[str], place: Path) -> None:
    """A file its owner made read-only is not replaced behind their back (as `sed -i` would)."""
    repo = nobody_repo(place / "repo")
    (repo / "proj/settings.py").chmod(0o444)
    before = snapshot(repo)
    ran = as_nobody(nobody_python, ["apply", "-q", "repo"], place)
    check_one_error(ran, "proj/settings.py", "read-only")
    assert snapshot(repo) == before


def test_file_of_another_user_in_a_writable_folder(nobody_python: list[str], place: Path) -> None:
    """root's 0644 file in nobody's folder: nobody could replace it, but may not write it."""
    repo = nobody_repo(place / "repo")
    os.chown(repo / "docker-compose.yml", 0, 0)
    before = snapshot(repo)
    ran = as_nobody(nobody_python, ["apply", "-q", "repo"], place)
    check_one_error(ran, "docker-compose.yml")
    assert snapshot(repo) == before
    assert (repo / "docker-compose.yml").stat().st_uid == 0
