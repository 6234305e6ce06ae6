"""Discovery lists shell scripts: `*.sh`, and extension-less files with a shell shebang."""

from __future__ import annotations

from pathlib import Path

import pytest

from celeryfix.discover import discover, has_shell_shebang


def test_scripts_are_the_shell_files_among_the_others(tmp_path: Path) -> None:
    files = {
        "scripts/worker.sh": "",
        "compose/local/django/celery/worker/start": "#!/bin/bash\nexec celery worker\n",
        "bin/run": "#!/usr/bin/env python3\n",
        "bin/notes": "no shebang\n",
        "Procfile": "web: gunicorn app\n",
        "setup.cfg": "#!/bin/sh\n",  # an extension: only *.sh counts
        "docker/Dockerfile": "#!/bin/sh\n",
    }
    for relpath, text in files.items():
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    found = discover(tmp_path)
    assert sorted(found.scripts) == [
        "compose/local/django/celery/worker/start",
        "scripts/worker.sh",
    ]
    assert set(found.scripts) <= set(found.other)


def test_only_the_first_bytes_are_read(tmp_path: Path) -> None:
    (tmp_path / "start").write_bytes(b"#!/bin/sh\n" + b"\x00" * 10_000_000)
    assert discover(tmp_path).scripts == ["start"]


@pytest.mark.parametrize(
    "head",
    [
        b"#!/bin/sh\n",
        b"#!/bin/bash -e\n",
        b"#! /bin/dash\n",
        b"#!/usr/bin/env bash\n",
        b"#!/usr/bin/env -S bash -eu\n",
        b"#!/command/with-contenv sh\n",
        b"#!/bin/ash",
        b"#!/bin/bash\r\n",
    ],
)
def test_shell_shebangs(head: bytes) -> None:
    assert has_shell_shebang(head)


@pytest.mark.parametrize(
    "head", [b"#!/usr/bin/env python3\n", b"#!/bin/shell\n", b"# !/bin/sh\n", b"echo hi\n", b""]
)
def test_not_shell_shebangs(head: bytes) -> None:
    assert not has_shell_shebang(head)
