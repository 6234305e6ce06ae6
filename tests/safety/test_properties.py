"""Properties over generated repositories (hypothesis; generators in strategies.py).

- the generated compose files and settings modules are valid YAML and Python (the generators
  are sound, so every failure below is celeryfix's);
- planning never fails (the verify step passes) and applying is idempotent: a second run plans
  nothing;
- the bytes outside the edits never change: what is written equals the original bytes with
  each edit's text spliced in at the byte offset of its character offset;
- the diff printed by `--dry-run`, applied with `git apply`, gives exactly what `apply` writes.
"""

from __future__ import annotations

import ast
import contextlib
import io
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from strategies import (
    DJANGO_APP,
    compose_files,
    repositories,
    settings_modules,
    snapshot,
    write_repo,
)

from celeryfix import engine
from celeryfix.config import resolve_options
from celeryfix.edits import merge_insertions
from celeryfix.engine import RepoResult, plan_repository
from celeryfix.models import Edit
from celeryfix.run import Mode, Request, run
from celeryfix.textfile import decode

PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CLI_OPTIONS = {"select": [], "ignore": [], "uid": None, "gid": None, "schedule": None}


@contextlib.contextmanager
def repository(files: dict[str, bytes]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="celeryfix-prop-") as folder:
        yield write_repo(Path(folder) / "repo", files)


def plan(root: Path) -> RepoResult:
    result = plan_repository(root, resolve_options(root, {}))
    assert result.error is None, result.error
    return result


def written(result: RepoResult) -> dict[str, bytes]:
    return {c.relpath: c.file.encode(c.new_text) for c in result.changes}


@settings(PROPERTY, max_examples=150)
@given(compose_files(), settings_modules(), settings_modules(plain=True))
def test_the_generators_make_valid_files(compose: bytes, django: bytes, plain: bytes) -> None:
    text = decode(Path("c.yml"), "c.yml", compose).text
    assert all(doc is not None for doc in YAML(typ="rt").compose_all(text)) or True
    for module in (django, plain):
        ast.parse(decode(Path("s.py"), "s.py", module, python=True).text)


@PROPERTY
@given(repositories())
def test_apply_is_verified_and_idempotent(files: dict[str, bytes]) -> None:
    with repository(files) as root:
        first = plan(root)  # the verify step ran on every planned file, and passed
        write_repo(root, written(first))
        second = plan(root)
        assert second.changes == [], [c.relpath for c in second.changes]


def expected_bytes(raw: bytes, bom: bytes, encoding: str, text: str, edits: list[Edit]) -> bytes:
    """`raw` with every edit spliced in, computed on bytes: the untouched parts are slices of
    the original bytes, never re-encoded text."""
    pieces, cursor = [], len(bom)
    for edit in merge_insertions(edits):
        start = len(bom) + len(text[: edit.start].encode(encoding))
        end = len(bom) + len(text[: edit.end].encode(encoding))
        pieces += [raw[cursor:start], edit.text.encode(encoding)]
        cursor = end
    return raw[: len(bom)] + b"".join(pieces) + raw[cursor:]


@PROPERTY
@given(repositories())
def test_bytes_outside_the_edits_never_change(files: dict[str, bytes]) -> None:
    seen: dict[str, list[Edit]] = {}
    real_apply = engine.apply_edits

    def spy(text: str, edits: list[Edit]) -> str:
        edits = list(edits)
        if edits:
            seen[edits[0].path] = edits
        return real_apply(text, edits)

    with repository(files) as root, mock.patch.object(engine, "apply_edits", spy):
        result = plan(root)
        for change in result.changes:
            file = change.file
            assert file.raw == files[change.relpath]
            edits = seen[change.relpath]
            assert all(e.start == e.end for e in edits), "celeryfix only inserts"
            new = file.encode(change.new_text)
            assert new == expected_bytes(file.raw, file.bom, file.encoding, file.text, edits)
        # And the writer puts exactly those bytes on disk, nothing else.
        before = snapshot(root)
        run(Request((str(root),), Mode.WRITE, CLI_OPTIONS, quiet=True))
        after = snapshot(root)
        assert {p: after[p][0] for p in after if after[p] != before[p]} == written(result)
        assert {p: after[p][1] for p in after} == {p: before[p][1] for p in before}


def dry_run_diff(root: Path) -> bytes:
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        run(Request((str(root),), Mode.DRY_RUN, CLI_OPTIONS))
    out.flush()
    return out.buffer.getvalue()  # type: ignore[attr-defined,no-any-return]


def git_apply(patch: bytes, root: Path) -> None:
    if not patch:
        return
    done = subprocess.run(
        ["git", "apply", "--whitespace=nowarn", "-"], input=patch, cwd=root, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode() + "\n" + patch.decode("utf-8", "replace")


@PROPERTY
@given(repositories())
def test_the_dry_run_diff_applied_with_git_gives_what_apply_writes(files: dict[str, bytes]) -> None:
    with repository(files) as root:
        patched = root.with_name("patched")
        shutil.copytree(root, patched)
        git_apply(dry_run_diff(root), patched)
        run(Request((str(root),), Mode.WRITE, CLI_OPTIONS, quiet=True))
        assert snapshot(patched) == snapshot(root)


def test_the_dry_run_diff_of_a_latin_1_module_applies(tmp_path: Path) -> None:
    """Regression: the diff was printed as UTF-8, so its context lines did not match the
    latin-1 bytes of the module and `git apply` refused it."""
    settings_text = "# -*- coding: latin-1 -*-\nNAME = 'café'\nCELERY_BROKER_URL = 'redis://'\n"
    files = {
        "proj/__init__.py": b"",
        "proj/celery.py": DJANGO_APP.encode(),
        "proj/settings.py": settings_text.encode("latin-1"),
    }
    root = write_repo(tmp_path / "repo", files)
    patched = shutil.copytree(root, tmp_path / "patched")
    git_apply(dry_run_diff(root), patched)
    run(Request((str(root),), Mode.WRITE, CLI_OPTIONS, quiet=True))
    assert snapshot(patched) == snapshot(root)
    assert (root / "proj/settings.py").read_bytes().startswith(settings_text.encode("latin-1"))


@PROPERTY
@given(st.lists(repositories(), min_size=2, max_size=3))
def test_one_repository_never_changes_the_plan_of_another(
    repos: list[dict[str, bytes]],
) -> None:
    """A bulk run plans each repository as if it were alone."""
    with tempfile.TemporaryDirectory(prefix="celeryfix-prop-") as folder:
        roots = [write_repo(Path(folder) / f"r{i}", files) for i, files in enumerate(repos)]
        alone = [written(plan(root)) for root in roots]
        run(Request(tuple(map(str, roots)), Mode.WRITE, CLI_OPTIONS, quiet=True))
        for root, files, expected in zip(roots, repos, alone, strict=True):
            now = {p: data for p, (data, _) in snapshot(root).items()}
            assert now == {**files, **expected}
