"""The diff printer: exact text, and the real `git apply` turns the old bytes into the new ones.

Every applied case goes through `git apply --check` and then `git apply` in a throwaway git
repository; the result on disk must equal the intended new bytes exactly (CR, BOM, final newline).
Where git's own `git diff --no-index` picks the same hunks, its text is the oracle for ours.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celeryfix.diff import NO_NEWLINE, unified_diff
from celeryfix.textfile import decode

# A git that ignores the user's and the system's configuration (diff.noprefix, autocrlf, ...).
GIT_ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "LC_ALL": "C",
}


def git(repo: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", *args], cwd=repo, input=stdin, capture_output=True, env=GIT_ENV, check=False
    )


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    assert git(path, "init", "-q").returncode == 0
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def git_apply(repo: Path, relpath: str, old: bytes, patch: bytes) -> bytes:
    """Write `old` at relpath, check and apply `patch` with git; the file's bytes afterwards."""
    target = repo / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(old)
    check = git(repo, "apply", "--check", "-", stdin=patch)
    assert check.returncode == 0, check.stderr.decode() + "\n" + patch.decode("utf-8", "replace")
    applied = git(repo, "apply", "-", stdin=patch)
    assert applied.returncode == 0, applied.stderr.decode()
    return target.read_bytes()


def assert_applies(
    repo: Path, relpath: str, old: bytes, new: bytes, encoding: str = "utf-8"
) -> str:
    """unified_diff of the decoded texts, applied by git, gives exactly `new`; returns the diff."""
    patch = unified_diff(relpath, old.decode(encoding), new.decode(encoding))
    assert git_apply(repo, relpath, old, patch.encode(encoding)) == new
    return patch


def git_hunks(tmp_path: Path, old: bytes, new: bytes) -> str:
    """The hunks (from the first @@ on) of `git diff --no-index` between the two byte strings."""
    (tmp_path / "old").write_bytes(old)
    (tmp_path / "new").write_bytes(new)
    result = git(tmp_path, "diff", "--no-index", "--no-color", "old", "new")
    assert result.returncode == 1, result.stderr.decode()
    text = result.stdout.decode("utf-8")
    # git adds the enclosing "function" after a hunk header; our printer never does.
    return re.sub(r"^(@@ [^@]+ @@).*$", r"\1", text[text.index("@@") :], flags=re.MULTILINE)


def hunks(patch: str) -> str:
    return patch[patch.index("@@") :]


# --- exact text ------------------------------------------------------------------------------


def test_unchanged_text_gives_no_diff() -> None:
    assert unified_diff("a.yml", "x\n", "x\n") == ""
    assert unified_diff("a.yml", "", "") == ""


def test_lf_file_exact_text(repo: Path) -> None:
    old = b"services:\n  w:\n    command: celery worker\n"
    new = b"services:\n  w:\n    command: celery worker --uid=nobody\n"
    patch = assert_applies(repo, "docker-compose.yml", old, new)
    assert patch == (
        "--- a/docker-compose.yml\n"
        "+++ b/docker-compose.yml\n"
        "@@ -1,3 +1,3 @@\n"
        " services:\n"
        "   w:\n"
        "-    command: celery worker\n"
        "+    command: celery worker --uid=nobody\n"
    )


def test_crlf_file_keeps_its_carriage_returns(repo: Path) -> None:
    old = b"a\r\nb\r\nc\r\n"
    new = b"a\r\nB\r\nc\r\n"
    patch = assert_applies(repo, "crlf.yml", old, new)
    assert patch == "--- a/crlf.yml\n+++ b/crlf.yml\n@@ -1,3 +1,3 @@\n a\r\n-b\r\n+B\r\n c\r\n"


def test_crlf_insertion_applies(repo: Path) -> None:
    old = b"# Celery\r\nCELERY_BROKER_URL = 'redis://'\r\nTIME_ZONE = 'UTC'\r\n"
    new = (
        b"# Celery\r\nCELERY_BROKER_URL = 'redis://'\r\n"
        b"CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True\r\nTIME_ZONE = 'UTC'\r\n"
    )
    assert_applies(repo, "settings.py", old, new)


def test_old_without_final_newline(repo: Path, tmp_path: Path) -> None:
    old, new = b"a\nb", b"a\nb\n"
    patch = assert_applies(repo, "f.txt", old, new)
    assert hunks(patch) == "@@ -1,2 +1,2 @@\n a\n-b\n" + NO_NEWLINE + "+b\n"
    assert hunks(patch) == git_hunks(tmp_path, old, new)


def test_new_without_final_newline(repo: Path, tmp_path: Path) -> None:
    old, new = b"a\nb\nc\n", b"a\nb\nc"
    patch = assert_applies(repo, "f.txt", old, new)
    assert hunks(patch) == "@@ -1,3 +1,3 @@\n a\n b\n-c\n+c\n" + NO_NEWLINE
    assert hunks(patch) == git_hunks(tmp_path, old, new)


def test_both_without_final_newline_edit_elsewhere(repo: Path, tmp_path: Path) -> None:
    # The unchanged last line is context and still carries its marker.
    old, new = b"a\nb\nc", b"A\nb\nc"
    patch = assert_applies(repo, "f.txt", old, new)
    assert hunks(patch) == "@@ -1,3 +1,3 @@\n-a\n+A\n b\n c\n" + NO_NEWLINE
    assert hunks(patch) == git_hunks(tmp_path, old, new)


def test_append_after_last_line_without_newline(repo: Path, tmp_path: Path) -> None:
    old, new = b"x = 1", b"x = 1\ny = 2\n"
    patch = assert_applies(repo, "s.py", old, new)
    assert hunks(patch) == git_hunks(tmp_path, old, new)


def test_crlf_file_without_final_newline(repo: Path) -> None:
    assert_applies(repo, "f.txt", b"a\r\nb\r\nc", b"a\r\nb\r\nc\r\nd\r\n")
    assert_applies(repo, "g.txt", b"a\r\nb\r\n", b"a\r\nb\r\nc")


def test_bom_file_applies_when_the_bom_is_part_of_the_text(repo: Path) -> None:
    """A BOM file's diff must carry the BOM (U+FEFF) in line 1, as git's own diff does."""
    old = b"\xef\xbb\xbfservices:\r\n  w:\r\n    command: celery worker\r\n"
    new = b"\xef\xbb\xbfservices:\r\n  w:\r\n    command: celery worker --uid=nobody\r\n"
    file = decode(repo / "c.yml", "c.yml", old)
    assert file.bom and not file.text.startswith("\ufeff")
    edited = file.text.replace("worker", "worker --uid=nobody")
    assert file.encode(edited) == new
    bom = file.bom.decode("utf-8")
    patch = unified_diff("c.yml", bom + file.text, bom + edited)
    assert patch.split("\n")[3] == " \ufeffservices:\r"
    assert git_apply(repo, "c.yml", old, patch.encode("utf-8")) == new


def test_bom_file_change_on_the_first_line(repo: Path) -> None:
    assert_applies(repo, "b.txt", b"\xef\xbb\xbfa\nb\n", b"\xef\xbb\xbfA\nb\n")


def test_latin1_python_file(repo: Path) -> None:
    old = b"# -*- coding: latin-1 -*-\nNAME = '\xe9t\xe9'\n"
    new = b"# -*- coding: latin-1 -*-\nNAME = '\xe9t\xe9'\nCELERY_X = True\n"
    assert_applies(repo, "settings.py", old, new, encoding="latin-1")


def test_multi_hunk_diff_exact_text(repo: Path, tmp_path: Path) -> None:
    lines = [f"line {n}\n" for n in range(1, 21)]
    old = "".join(lines).encode()
    changed = list(lines)
    changed[1] = "LINE 2\n"
    changed.insert(15, "inserted\n")
    new = "".join(changed).encode()
    patch = assert_applies(repo, "many.txt", old, new)
    assert hunks(patch) == (
        "@@ -1,5 +1,5 @@\n line 1\n-line 2\n+LINE 2\n line 3\n line 4\n line 5\n"
        "@@ -13,6 +13,7 @@\n line 13\n line 14\n line 15\n+inserted\n line 16\n line 17\n line 18\n"
    )
    assert hunks(patch) == git_hunks(tmp_path, old, new)


def test_multi_hunk_crlf_with_deletion_and_end_change(repo: Path) -> None:
    lines = [f"l{n}\r\n" for n in range(30)]
    changed = list(lines)
    del changed[3]
    changed[20] = "changed\r\n"
    changed[-1] = "last"  # and the new file ends without a line break
    assert_applies(repo, "m.txt", "".join(lines).encode(), "".join(changed).encode())


def test_insertion_at_start_and_from_empty(repo: Path) -> None:
    patch = assert_applies(repo, "a.txt", b"a\nb\n", b"first\na\nb\n")
    assert hunks(patch) == "@@ -1,2 +1,3 @@\n+first\n a\n b\n"
    patch = assert_applies(repo, "e.txt", b"", b"x\n")
    assert hunks(patch) == "@@ -0,0 +1 @@\n+x\n"


def test_context_argument(repo: Path) -> None:
    lines = "".join(f"{n}\n" for n in range(10))
    patch = unified_diff("n.txt", lines, lines.replace("5\n", "five\n"), context=1)
    assert hunks(patch) == "@@ -5,3 +5,3 @@\n 4\n-5\n+five\n 6\n"


def test_paths_are_relative_with_a_and_b_prefixes_and_no_timestamps() -> None:
    patch = unified_diff("backend/crm/settings.py", "x = 1\n", "x = 2\n")
    assert patch.splitlines()[:2] == [
        "--- a/backend/crm/settings.py",
        "+++ b/backend/crm/settings.py",
    ]


@pytest.mark.parametrize(
    ("relpath", "header"),
    [
        ("deploy/my compose.yml", "a/deploy/my compose.yml\t"),
        ("tab\there.yml", '"a/tab\\there.yml"'),
        ('quote"d.yml', '"a/quote\\"d.yml"'),
        ("back\\slash.yml", '"a/back\\\\slash.yml"'),
        ("ф/настройки.py", "a/ф/настройки.py"),
    ],
)
def test_odd_file_names_are_quoted_as_git_does(repo: Path, relpath: str, header: str) -> None:
    patch = assert_applies(repo, relpath, b"a\nb\n", b"a\nc\n")
    assert patch.splitlines()[0] == f"--- {header}"


# --- the property: git apply of our diff turns old into new, exactly ----------------------------

WORDS = st.sampled_from(["", "a", "b", "x = 1", "  command: celery worker", "\t# c", "é", "a\r"])


@st.composite
def texts(draw: st.DrawFn) -> list[str]:
    """Lines, each with its own break (LF or CRLF); the last may have none."""
    words = draw(st.lists(WORDS, max_size=12))
    breaks = draw(
        st.lists(st.sampled_from(["\n", "\r\n"]), min_size=len(words), max_size=len(words))
    )
    lines = [word + brk for word, brk in zip(words, breaks, strict=True)]
    no_final_break = draw(st.booleans())
    if lines and no_final_break:
        lines[-1] = lines[-1].rstrip("\n")
    return lines


@st.composite
def old_and_new(draw: st.DrawFn) -> tuple[str, str]:
    old = draw(texts())
    new = list(old)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["insert", "change", "delete"]))
        position = draw(st.integers(0, len(new)))
        line = draw(WORDS) + draw(st.sampled_from(["\n", "\r\n"]))
        if action == "insert":
            new.insert(position, line)
        elif new and position < len(new):
            if action == "change":
                new[position] = line
            else:
                del new[position]
    new_text = "".join(new)
    if new_text and draw(st.booleans()):  # toggle the final line break
        new_text = new_text.rstrip("\n") if new_text.endswith("\n") else new_text + "\n"
    return "".join(old), new_text


@pytest.fixture(scope="module")
def shared_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield make_repo(tmp_path_factory.mktemp("property") / "repo")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=old_and_new())
def test_git_apply_of_the_diff_gives_new_exactly(shared_repo: Path, pair: tuple[str, str]) -> None:
    old, new = pair
    patch = unified_diff("prop.txt", old, new)
    if old == new:
        assert patch == ""
        return
    assert git_apply(shared_repo, "prop.txt", old.encode(), patch.encode()) == new.encode()
