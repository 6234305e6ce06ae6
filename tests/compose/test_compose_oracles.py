"""Every transformed compose case of CF101/CF102 against the real oracles.

- the real compose loader: the models before and after are equal except the edited services'
  command/entrypoint, which gain exactly the new options;
- Celery's own click parser: each edited invocation has uid/gid (and the schedule) as intended,
  and every other parameter unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from oracles.celery_cli import parse_with_celery
from oracles.compose_loader import added_flags, celery_argvs, compose_config
from rules.test_cf101_worker_runs_as_root import TRANSFORMED as WORKER_CASES
from rules.test_cf102_beat_runs_as_root import TRANSFORMED as BEAT_CASES
from rules.test_cf102_beat_runs_as_root import compose

FLAGS = [
    "--uid=nobody",
    "--gid=nogroup",
    "--gid=nobody",
    "--schedule=/tmp/celerybeat-schedule",
    "--schedule-filename=/tmp/celerybeat-schedule",
]
CASES = [(name, before, after) for name, before, after in WORKER_CASES] + [
    (f"beat-{name}", compose(before), compose(after)) for name, before, after in BEAT_CASES
]


def _model(folder: Path, text: str) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "docker-compose.yml").write_text(text, encoding="utf-8", newline="")
    return compose_config(folder, ["docker-compose.yml"])


def celery5_order(argv: list[str]) -> list[str]:
    """Celery 5 refuses `celery worker -A app` (the old order, fine on Celery 4); the parser
    oracle reads it with the app option moved before the subcommand."""
    moved: list[str] = []
    rest = list(argv)
    for index, word in enumerate(argv):
        if word in ("-A", "--app") and index + 1 < len(argv):
            moved = [word, argv[index + 1]]
            rest = argv[:index] + argv[index + 2 :]
            break
        if word.startswith("--app="):
            moved, rest = [word], argv[:index] + argv[index + 1 :]
            break
    if not moved or not rest or rest[0].startswith("-"):
        return argv  # already celery 5 order
    return moved + rest


def _argv(service: dict[str, Any]) -> list[str]:
    return list(service.get("entrypoint") or []) + list(service.get("command") or [])


@pytest.mark.oracle
@pytest.mark.parametrize(("before", "after"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_compose_loader_and_celery_parser_agree(tmp_path: Path, before: str, after: str) -> None:
    old = _model(tmp_path / "before", before)
    new = _model(tmp_path / "after", after)
    added = added_flags(old, new, FLAGS)
    assert sum(added.values()) >= 2
    for name, count in added.items():
        if not count:
            continue
        old_runs = celery_argvs(_argv(old["services"][name]))
        new_runs = celery_argvs(_argv(new["services"][name]))
        assert len(old_runs) == len(new_runs) >= 1
        for old_argv, new_argv in zip(old_runs, new_runs, strict=True):
            if old_argv == new_argv:
                continue
            was = parse_with_celery(celery5_order(old_argv))
            now = parse_with_celery(celery5_order(new_argv))
            assert now["subcommand"] == was["subcommand"]
            assert now["global"] == was["global"]
            changed = {k for k in now["params"] if now["params"][k] != was["params"][k]}
            assert {"uid", "gid"} <= changed <= {"uid", "gid", "schedule", "schedule_filename"}
            assert now["params"]["uid"] == "nobody"
            assert now["params"]["gid"] in {"nogroup", "nobody"}
            if "schedule" in changed or "schedule_filename" in changed:
                key = "schedule" if "schedule" in changed else "schedule_filename"
                assert now["params"][key] == "/tmp/celerybeat-schedule"
