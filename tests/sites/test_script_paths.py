"""Which words a command runs as programs or scripts, and which repository files they name."""

from __future__ import annotations

import pytest

from celeryfix.sites.image_files import ImageFiles
from celeryfix.sites.script_paths import PathResolver, executed_paths


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/start-celeryworker"], [("/start-celeryworker", False, None)]),
        (["exec", "/start"], [("exec", False, None), ("/start", False, None)]),
        (
            ["tini", "--", "/entrypoint", "worker"],
            [("tini", False, None), ("/entrypoint", False, None)],
        ),
        (
            ["bash", "docker/entrypoint.sh", "worker"],
            [("bash", False, None), ("docker/entrypoint.sh", True, None)],
        ),
        (["sh", "-e", "x.sh"], [("sh", False, None), ("x.sh", True, None)]),
        (["sh", "-o", "errexit", "x.sh"], [("sh", False, None), ("x.sh", True, None)]),
        (["gosu", "app", "/start"], [("gosu", False, None), ("/start", False, "gosu")]),
        (["gosu", "root", "/start"], [("gosu", False, None), ("/start", False, None)]),
        (["su-exec", "app", "x.sh"], [("su-exec", False, None), ("x.sh", False, "su-exec")]),
        ([".", "./env.sh"], [(".", False, None), ("./env.sh", True, None)]),
        (["VAR=1", "./x.sh"], [("VAR=1", False, None), ("./x.sh", False, None)]),
        (["cat", "/start"], [("cat", False, None)]),
    ],
)
def test_executed_paths(argv: list[str], expected: list[tuple[str, bool, str | None]]) -> None:
    assert list(executed_paths(argv)) == expected


def test_scripts_inside_sh_c() -> None:
    found = list(executed_paths(["sh", "-c", "./wait.sh redis && exec ./run.sh"]))
    assert ("./wait.sh", False, None) in found and ("./run.sh", False, None) in found
    assert ("-c", True, None) not in found


def test_su_c_switches_user() -> None:
    found = list(executed_paths(["su", "app", "-c", "/start"]))
    assert ("/start", False, "su") in found


KNOWN = frozenset({"docker/start.sh", "scripts/celery.sh", "backend/scripts/celery.sh"})
IMAGE = ImageFiles(
    "Dockerfile",
    "FROM a\nWORKDIR /app\nCOPY docker/start.sh /usr/local/bin/start\nCOPY . .\n",
    ".",
    KNOWN,
)


@pytest.mark.parametrize(
    ("word", "operand", "expected"),
    [
        ("start", False, "docker/start.sh"),  # $PATH lookup in the image
        ("start", True, None),  # `sh start` reads ./start
        ("/app/scripts/celery.sh", False, "scripts/celery.sh"),
        ("./scripts/celery.sh", False, "scripts/celery.sh"),
        ("scripts/celery.sh", True, "scripts/celery.sh"),
        ("$APP/scripts/celery.sh", False, None),
        ("-c", True, None),
        ("/nowhere.sh", False, None),
    ],
)
def test_resolve_in_an_image(word: str, operand: bool, expected: str | None) -> None:
    resolver = PathResolver(IMAGE, IMAGE.workdir, (".",), KNOWN)
    assert resolver.resolve(word, operand) == expected


def test_resolve_without_an_image() -> None:
    resolver = PathResolver(None, "/srv", ("backend", "."), KNOWN)
    assert resolver.resolve("./scripts/celery.sh", False) == "backend/scripts/celery.sh"
    assert resolver.resolve("/srv/scripts/celery.sh", False) == "backend/scripts/celery.sh"
    assert resolver.resolve("celery.sh", False) is None  # a bare name is a $PATH lookup
    inner = PathResolver(None, None, (".",), KNOWN).with_folder("docker")
    assert inner.resolve("start.sh", True) == "docker/start.sh"
