"""Hostile and broken repositories: one clear line, the right exit code, no traceback, nothing of
the repository written, bounded time and memory, and the other repositories of the run fixed.

The installed `celeryfix apply` runs in subprocesses (address space capped at 1.5 GB, a
timeout): each case that must fail alone with a healthy repository (its exit code, its one
line), the cases that must pass all in one bulk run with a healthy repository.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from strategies import DJANGO_APP, Ran, run_celeryfix, snapshot, write_repo

COMPOSE = "services:\n  worker:\n    build: .\n    command: celery -A proj worker -l info\n"
COMPOSE_FIXED = COMPOSE.replace("info\n", "info --uid=nobody --gid=nogroup\n")
SETTINGS = "DEBUG = True\nCELERY_BROKER_URL = 'redis://'\n"
ADDED = (
    "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True\n"
    "CELERY_WORKER_HIJACK_ROOT_LOGGER = False\n"
    "CELERY_WORKER_LOG_COLOR = False\n"
)
HEALTHY: dict[str, str | bytes] = {
    "docker-compose.yml": COMPOSE,
    "proj/__init__.py": "",
    "proj/celery.py": DJANGO_APP,
    "proj/settings.py": SETTINGS,
}

Setup = Callable[[Path, Path], None]  # (repository, a folder outside it)


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes]
    outcome: str  # "error": exit 2, one error line; "ok": exit 0
    message: str = ""  # in the error line, or in a skip note when outcome is "ok"
    untouched: tuple[str, ...] = ()  # files that must keep their bytes ("error": every file)
    fixed: dict[str, bytes] = field(default_factory=dict)  # files that must become these bytes
    setup: Setup | None = None
    seconds: float = 30


def repo(overrides: dict[str, str | bytes | None] | None = None) -> dict[str, str | bytes]:
    """The healthy repository with some files replaced (None: removed)."""
    files = dict(HEALTHY)
    for relpath, value in (overrides or {}).items():
        if value is None:
            files.pop(relpath, None)
        else:
            files[relpath] = value
    return files


def symlink(link: str, target: str | Callable[[Path, Path], Path]) -> Setup:
    def make(root: Path, outside: Path) -> None:
        path = root / link
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        path.symlink_to(target(root, outside) if callable(target) else target)

    return make


def fifo(relpath: str) -> Setup:
    def make(root: Path, outside: Path) -> None:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        os.mkfifo(path)

    return make


def folder(relpath: str) -> Setup:
    def make(root: Path, outside: Path) -> None:
        path = root / relpath
        path.unlink(missing_ok=True)
        path.mkdir(parents=True)

    return make


def both(*setups: Setup) -> Setup:
    def make(root: Path, outside: Path) -> None:
        for setup in setups:
            setup(root, outside)

    return make


def alias_bomb() -> str:
    lines = ['x-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        previous, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"x-{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    return (
        "\n".join(lines)
        + "\nservices:\n  worker:\n    build: .\n    command: celery -A proj worker -l info\n"
        "    environment: *j\n    volumes: *j\n  other:\n    build: .\n    command: *j\n"
        "    entrypoint: *j\n"
    )


def big_compose(size: int) -> bytes:
    filler = b"  svc%d:\n    image: x\n    environment:\n      A: '" + b"y" * 200 + b"'\n"
    count = size // len(filler) + 1
    return COMPOSE.encode() + b"".join(filler.replace(b"%d", str(i).encode()) for i in range(count))


C = {"docker-compose.yml": COMPOSE_FIXED.encode()}
S = {"proj/settings.py": (SETTINGS + ADDED).encode()}
BOTH = {**C, **S}
LATIN = "# -*- coding: latin-1 -*-\nNAME = 'café'  # déjà\nCELERY_BROKER_URL = 'redis://'\n"

CASES = [
    # -- not YAML, not Python
    Case(
        "invalid-yaml",
        repo({"docker-compose.yml": "services:\n  w: [\n    command: celery worker\n"}),
        "error",
        "invalid YAML",
    ),
    Case(
        "yaml-tab-indentation",
        repo({"docker-compose.yml": "services:\n\tw:\n\t\tcommand: celery worker\n"}),
        "error",
        "invalid YAML",
    ),
    Case(
        "duplicate-yaml-key",
        repo({"docker-compose.yml": COMPOSE + "  worker:\n    image: x\n"}),
        "error",
        "docker-compose.yml",
    ),
    Case(
        "yaml-error-told-over-several-lines",
        repo(
            {
                "docker-compose.yml": "services:\r\n  w:\r\n    command: >\r\n \n  w:\r\n    command: celery worker\r\n"
            }
        ),
        "error",
        "invalid YAML",
    ),
    Case(
        "anchor-defined-twice",
        repo({"docker-compose.yml": "x-a: &a\n  image: app\nx-b: &a\n  image: other\n" + COMPOSE}),
        "ok",
        fixed={
            **S,
            "docker-compose.yml": (
                "x-a: &a\n  image: app\nx-b: &a\n  image: other\n" + COMPOSE_FIXED
            ).encode(),
        },
    ),
    Case(
        "invalid-python-settings",
        repo({"proj/settings.py": "DEBUG = (\nCELERY_BROKER_URL = 1\n"}),
        "error",
        "invalid Python",
    ),
    Case(
        "invalid-python-app",
        repo({"proj/celery.py": DJANGO_APP + "def broken(:\n"}),
        "error",
        "invalid Python",
    ),
    Case(
        "invalid-python-elsewhere",
        repo({"proj/views.py": "def broken(:\n"}),
        "ok",
        untouched=("proj/views.py",),
        fixed=BOTH,
    ),
    # -- binary data, NUL bytes, encodings
    Case(
        "nul-in-compose",
        repo({"docker-compose.yml": COMPOSE.encode() + b"\x00\n"}),
        "error",
        "binary data",
    ),
    Case(
        "binary-compose",
        repo({"docker-compose.yml": bytes(range(256)) * 64}),
        "error",
        "docker-compose.yml",
    ),
    Case(
        "binary-without-nul-compose",
        repo({"docker-compose.yml": bytes(range(1, 256)) * 64}),
        "error",
        "docker-compose.yml",
    ),
    Case(
        "nul-in-settings",
        repo({"proj/settings.py": SETTINGS.encode() + b"\x00"}),
        "ok",
        "binary data",
        untouched=("proj/settings.py",),
        fixed=C,
    ),
    Case(
        "latin-1-compose",
        repo({"docker-compose.yml": COMPOSE.encode() + b"# caf\xe9\n"}),
        "error",
        "not valid utf-8",
    ),
    Case(
        "declared-latin-1-settings-are-fixed-byte-exactly",
        repo({"proj/settings.py": LATIN.encode("latin-1")}),
        "ok",
        fixed={**C, "proj/settings.py": (LATIN + ADDED).encode("latin-1")},
    ),
    Case(
        "undeclared-latin-1-settings",
        repo({"proj/settings.py": LATIN.split("\n", 1)[1].encode("latin-1")}),
        "ok",
        "not valid utf-8",
        untouched=("proj/settings.py",),
        fixed=C,
    ),
    Case(
        "unknown-declared-encoding",
        repo({"proj/settings.py": "# -*- coding: klingon -*-\n" + SETTINGS}),
        "ok",
        "encoding",
        untouched=("proj/settings.py",),
        fixed=C,
    ),
    Case(
        "declared-utf-16-encoding",
        repo({"proj/settings.py": "# coding: utf-16\n" + SETTINGS}),
        "ok",
        "encoding",
        untouched=("proj/settings.py",),
        fixed=C,
    ),
    Case(
        "utf-16-compose", repo({"docker-compose.yml": COMPOSE.encode("utf-16")}), "error", "UTF-16"
    ),
    Case(
        "utf-16-compose-without-bom",
        repo({"docker-compose.yml": COMPOSE.encode("utf-16-le")}),
        "error",
        "docker-compose.yml",
    ),
    Case(
        "utf-32-compose",
        repo({"docker-compose.yml": COMPOSE.encode("utf-32")}),
        "error",
        "UTF-16/32",
    ),
    Case(
        "utf-16-settings",
        repo({"proj/settings.py": SETTINGS.encode("utf-16")}),
        "ok",
        "UTF-16",
        untouched=("proj/settings.py",),
        fixed=C,
    ),
    Case(
        "bom-and-latin-1-declaration",
        repo({"proj/settings.py": b"\xef\xbb\xbf# coding: latin-1\n" + SETTINGS.encode()}),
        "ok",
        "BOM",
        untouched=("proj/settings.py",),
        fixed=C,
    ),
    # -- size and shape
    Case(
        "compose-of-50-mb",
        repo({"docker-compose.yml": big_compose(50 * 1024 * 1024)}),
        "error",
        "too large",
        seconds=20,
    ),
    Case(
        "yaml-alias-bomb",
        repo({"docker-compose.yml": alias_bomb()}),
        "ok",
        fixed={
            **S,
            "docker-compose.yml": alias_bomb()
            .replace("info\n", "info --uid=nobody --gid=nogroup\n", 1)
            .encode(),
        },
        seconds=20,
    ),
    Case(
        "deeply-nested-yaml",
        repo({"docker-compose.yml": COMPOSE + "    labels: " + "[" * 1000 + "]" * 1000 + "\n"}),
        "error",
        "nesting too deep",
        seconds=20,
    ),
    Case(
        "deeply-nested-yaml-mappings",
        repo(
            {
                "docker-compose.yml": COMPOSE
                + "    labels:\n"
                + "".join(" " * (6 + i) + f"k{i}:\n" for i in range(1000))
                + " " * 1006
                + "v\n"
            }
        ),
        "error",
        "docker-compose.yml",
        seconds=20,
    ),
    Case(
        "deeply-nested-python",
        repo({"proj/settings.py": "X = " + "(" * 5000 + ")" * 5000 + "\n"}),
        "error",
        "proj/settings.py",
    ),
    Case(
        "deep-python-expression",
        repo({"proj/settings.py": "X = " + "+".join(["1"] * 100_000) + "\n"}),
        "error",
        "proj/settings.py",
    ),
    Case(
        "deep-python-unary",
        repo({"proj/settings.py": "X = " + "not " * 10_000 + "1\n"}),
        "error",
        "proj/settings.py",
    ),
    # -- what is not a regular file of the repository
    Case(
        "folder-named-like-a-compose-file",
        repo({"docker-compose.yml": None}),
        "ok",
        setup=folder("docker-compose.yml"),
        fixed=S,
    ),
    Case(
        "broken-symlinks-and-loops",
        repo(),
        "ok",
        setup=both(
            symlink("dangling.yml", "nowhere"),
            symlink("compose.override.yml", "nowhere"),
            symlink("loop-a", "loop-b"),
            symlink("loop-b", "loop-a"),
            symlink("proj/self", "."),
            symlink("proj/up", ".."),
        ),
        fixed=BOTH,
    ),
    Case(
        "compose-file-symlinked-outside",
        repo({"docker-compose.yml": None}),
        "ok",
        setup=symlink("docker-compose.yml", lambda root, outside: outside / "docker-compose.yml"),
        fixed=S,
    ),
    Case(
        "settings-folder-symlinked-outside",
        repo({"proj/settings.py": None}),
        "ok",
        setup=symlink("proj/settings.py", lambda root, outside: outside / "proj" / "settings.py"),
        fixed=C,
    ),
    Case(
        "package-symlinked-outside",
        {"docker-compose.yml": COMPOSE},
        "ok",
        setup=symlink("proj", lambda root, outside: outside / "proj"),
        fixed=C,
    ),
    Case(
        "compose-file-hard-linked-to-one-outside",
        repo({"docker-compose.yml": None}),
        "ok",
        setup=lambda root, outside: os.link(
            outside / "docker-compose.yml", root / "docker-compose.yml"
        ),
        fixed=BOTH,  # the repository's name gets a new file; the one outside keeps its bytes
    ),
    Case(
        "build-context-outside",
        repo(
            {
                "docker-compose.yml": "services:\n  w:\n    build: ../outside\n  x:\n    build:\n      context: /etc\n      dockerfile: ../outside/Dockerfile\n    command: ./../outside/start.sh\n"
            }
        ),
        "ok",
        fixed=S,
    ),
    Case(
        "settings-module-is-a-fifo",
        repo({"proj/settings.py": None}),
        "ok",
        setup=fifo("proj/settings.py"),
        fixed=C,
        seconds=15,
    ),
    Case(
        "start-script-is-a-fifo",
        repo({"docker-compose.yml": "services:\n  w:\n    build: .\n    command: ./start.sh\n"}),
        "ok",
        setup=fifo("start.sh"),
        fixed=S,
        seconds=15,
    ),
    # -- broken .gitignore and configuration
    Case(
        "gitignore-garbage",
        repo({".gitignore": b"\\\n[z-a]\n[a-\\]\n!\n[[:bogus:]]\n\xff\xfe garbage\n"}),
        "ok",
        fixed=BOTH,
    ),
    Case("gitignore-is-a-fifo", repo(), "ok", setup=fifo(".gitignore"), fixed=BOTH, seconds=15),
    Case(
        "gitignore-is-dev-zero",
        repo(),
        "ok",
        setup=symlink(".gitignore", "/dev/zero"),
        fixed=BOTH,
        seconds=15,
    ),
    Case("gitignore-is-a-folder", repo(), "ok", setup=folder(".gitignore"), fixed=BOTH),
    Case(
        "pyproject-not-toml",
        repo({"pyproject.toml": "[tool.celeryfix\nselect = ["}),
        "error",
        "pyproject.toml",
    ),
    Case(
        "pyproject-not-utf-8",
        repo({"pyproject.toml": b"[tool.celeryfix]\nuid = '\xff'\n"}),
        "error",
        "pyproject.toml",
    ),
    Case(
        "pyproject-wrong-type",
        repo({"pyproject.toml": "[tool.celeryfix]\nselect = 'CF101'\n"}),
        "error",
        "must be a list",
    ),
    Case("pyproject-tool-not-a-table", repo({"pyproject.toml": "tool = 3\n"}), "ok", fixed=BOTH),
    Case(
        "pyproject-table-not-a-table",
        repo({"pyproject.toml": "[tool]\nceleryfix = 3\n"}),
        "error",
        "must be a table",
    ),
    Case(
        "pyproject-unknown-rule",
        repo({"pyproject.toml": "[tool.celeryfix]\nselect = ['CF999']\n"}),
        "error",
        "CF999",
    ),
    Case(
        "pyproject-hostile-uid",
        repo({"pyproject.toml": "[tool.celeryfix]\nuid = 'x; rm -rf /'\n"}),
        "error",
        "uid",
    ),
    Case("pyproject-is-a-fifo", repo(), "ok", setup=fifo("pyproject.toml"), fixed=BOTH, seconds=15),
    Case(
        "pyproject-is-dev-zero",
        repo(),
        "ok",
        setup=symlink("pyproject.toml", "/dev/zero"),
        fixed=BOTH,
        seconds=15,
    ),
]


def outside_files(outside: Path) -> None:
    write_repo(
        outside,
        {
            "docker-compose.yml": COMPOSE,
            "proj/__init__.py": "",
            "proj/celery.py": DJANGO_APP,
            "proj/settings.py": SETTINGS,
            "Dockerfile": 'FROM python:3.12\nCMD ["celery", "-A", "proj", "worker"]\n',
            "start.sh": "#!/bin/sh\nexec celery -A proj worker\n",
        },
    )


@dataclass(frozen=True)
class Outcome:
    ran: Ran | None  # None: the run did not end in time
    hostile: Path
    healthy: Path
    outside: Path
    hostile_before: dict[str, tuple[bytes, int]]
    outside_before: dict[str, tuple[bytes, int]]


def prepare(top: Path, case: Case, healthy: Path) -> Outcome:
    hostile, outside = top / case.id, top / f"{case.id}.outside"
    write_repo(hostile, case.files)
    outside_files(outside)
    if case.setup is not None:
        case.setup(hostile, outside)
    return Outcome(None, hostile, healthy, outside, snapshot(hostile), snapshot(outside))


def run(top: Path, repositories: list[str], quiet: bool, seconds: float) -> Ran | None:
    try:
        return run_celeryfix(
            ["apply", *(["-q"] if quiet else []), *repositories],
            top,
            timeout=seconds,
            memory_mb=1536,
        )
    except subprocess.TimeoutExpired:
        return None


def run_error_case(top: Path, case: Case) -> Outcome:
    """Alone with a healthy repository: its own exit code and its one line."""
    healthy = write_repo(top / "healthy", HEALTHY)
    prepared = prepare(top, case, healthy)
    ran = run(top, [case.id, "healthy"], quiet=True, seconds=case.seconds)
    return dataclasses.replace(prepared, ran=ran)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Each error case in its own run (in parallel: most of a run is its start-up); the cases
    that must pass all in one run, with a healthy repository: a bulk run as users make them."""
    top = tmp_path_factory.mktemp("hostile")
    errors = [c for c in CASES if c.outcome == "error"]
    passing = [c for c in CASES if c.outcome == "ok"]
    together = top / "together"
    healthy = write_repo(together / "healthy", HEALTHY)
    prepared = {c.id: prepare(together, c, healthy) for c in passing}
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {c.id: pool.submit(run_error_case, top / c.id, c) for c in errors}
        seconds = sum(c.seconds for c in passing)
        ran = run(together, [*(c.id for c in passing), "healthy"], quiet=False, seconds=seconds)
        found = {name: future.result() for name, future in futures.items()}
    return {**found, **{name: dataclasses.replace(o, ran=ran) for name, o in prepared.items()}}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_repository(outcomes: dict[str, Outcome], case: Case) -> None:
    outcome = outcomes[case.id]
    ran = outcome.ran
    assert ran is not None, "no answer in time"
    assert "Traceback" not in ran.stderr, ran.stderr
    hostile_before = outcome.hostile_before
    after = snapshot(outcome.hostile)
    if case.outcome == "error":
        assert ran.code == 2, ran
        assert ran.stdout == ""
        lines = ran.stderr.splitlines()
        assert len(lines) == 1, ran.stderr
        assert lines[0].startswith("error: ") and case.message in lines[0], lines[0]
        assert after == hostile_before, "nothing of a failed repository is written"
    else:
        assert ran.code == 0, ran
        assert not ran.error_lines, ran.stderr
        said = re.compile(r"(skip|info|advice): |fixed |\d+ files? changed")
        assert all(said.match(line) for line in ran.stderr.splitlines()), ran.stderr
        if case.message:
            skips = [
                line for line in ran.stderr.splitlines() if line.startswith(f"skip: {case.id}/")
            ]
            assert any(case.message in line for line in skips), ran.stderr
        for relpath in case.untouched:
            assert after[relpath] == hostile_before[relpath], relpath
        for relpath, data in case.fixed.items():
            assert after[relpath][0] == data, relpath
        changed = {p for p in after if after[p] != hostile_before.get(p)}
        assert changed <= set(case.fixed), f"unexpected writes: {changed - set(case.fixed)}"
        assert set(after) == set(hostile_before), "no file appears or disappears"
    assert snapshot(outcome.outside) == outcome.outside_before, "nothing outside is written"
    healthy_after = snapshot(outcome.healthy)
    assert healthy_after["docker-compose.yml"][0] == COMPOSE_FIXED.encode()
    assert healthy_after["proj/settings.py"][0] == (SETTINGS + ADDED).encode()


def one_repository(tmp_path: Path, setup: Setup, **files: str) -> Ran | None:
    """`celeryfix apply -q repo` over the healthy repository changed by `setup`."""
    write_repo(tmp_path / "repo", HEALTHY)
    setup(tmp_path / "repo", tmp_path)
    return run(tmp_path, ["repo"], quiet=True, seconds=8)


def compose_building(folder: str) -> Setup:
    def make(root: Path, outside: Path) -> None:
        (root / "docker-compose.yml").write_text(
            f"services:\n  worker:\n    build: ./{folder}\n    command: celery -A proj worker\n"
        )

    return make


@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_dockerfile_that_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    def dockerfile(root: Path, outside: Path) -> None:
        (root / "backend").mkdir()
        if kind == "fifo":
            os.mkfifo(root / "backend/Dockerfile")
        else:
            (root / "backend/Dockerfile").symlink_to("/dev/zero")

    ran = one_repository(tmp_path, both(compose_building("backend"), dockerfile))
    assert ran is not None, "no answer in time"
    assert "Traceback" not in ran.stderr and ran.code in (0, 2), ran


def test_deeply_nested_but_valid_settings_module(tmp_path: Path) -> None:
    def settings(root: Path, outside: Path) -> None:
        (root / "proj/settings.py").write_text(SETTINGS + "X = " + "lambda: " * 1000 + "1\n")

    ran = one_repository(tmp_path, settings)
    assert ran is not None, "no answer in time"
    assert "Traceback" not in ran.stderr and ran.code in (0, 2), ran


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
@pytest.mark.parametrize(
    "mode", ["--check", "--dry-run", "--json", "--diff", "--dry-run --color=always"]
)
def test_file_names_that_are_not_utf_8(tmp_path: Path, mode: str, encoding: str) -> None:
    """A folder named with bytes that are not UTF-8: printed as they are, never a traceback,
    even where Python's stdout is strict (PYTHONIOENCODING, a UTF-8 locale)."""
    root = tmp_path / "repo"
    write_repo(root, {"docker-compose.yml": COMPOSE})
    folder = os.fsdecode(b"caf\xe9-\xff")
    write_repo(root / folder, {"docker-compose.yml": COMPOSE})
    ran = run_celeryfix(
        ["apply", *mode.split(), "repo"], tmp_path, env={"PYTHONIOENCODING": encoding}
    )
    assert "Traceback" not in ran.stderr, ran.stderr
    assert ran.code == (1 if mode == "--check" else 0), ran
    if mode == "--dry-run":
        assert b"\xff" in ran.stdout.encode("utf-8", "surrogateescape") or "\ufffd" in ran.stdout
    if mode == "--diff":
        assert (root / folder / "docker-compose.yml").read_text() == COMPOSE_FIXED
