"""The command line contract: modes, exit codes, reports, and one clear line for bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from celeryfix.cli import main

DEMO = Path(__file__).parent.parent / "fixtures" / "demo-crm"


def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["celeryfix", *args])
    with pytest.raises(SystemExit) as done:
        main()
    captured = capsys.readouterr()
    return int(done.value.code or 0), captured.out, captured.err


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    copy = tmp_path / "demo-crm"
    shutil.copytree(DEMO, copy)
    return copy


def test_check_apply_check(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(demo)
    code, out, _ = cli(capsys, monkeypatch, "apply", "--check", str(demo))
    assert code == 1
    assert "would fix" in out and "docker-compose.yml (CF101, CF102)" in out
    assert snapshot(demo) == before
    code, _, err = cli(capsys, monkeypatch, "apply", str(demo))
    assert code == 0
    assert "fixed" in err
    assert snapshot(demo) != before
    code, out, _ = cli(capsys, monkeypatch, "apply", "--check", str(demo))
    assert (code, out) == (0, "")


def test_dry_run_writes_nothing_and_its_diff_applies_to_what_apply_writes(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(demo)
    code, diff, _ = cli(capsys, monkeypatch, "apply", "--dry-run", "--color=never", str(demo))
    assert code == 0
    assert diff.startswith("--- a/")
    assert "+    command: celery -A crm worker -l info --uid=nobody --gid=nogroup\n" in diff
    assert snapshot(demo) == before
    patched = tmp_path / "patched"
    shutil.copytree(demo, patched)
    subprocess.run(["git", "init", "-q"], cwd=patched, check=True)
    subprocess.run(["git", "apply", "-"], cwd=patched, input=diff.encode(), check=True)
    cli(capsys, monkeypatch, "apply", str(demo))
    after = snapshot(demo)
    assert {k: v for k, v in snapshot(patched).items() if not k.startswith(".git/")} == after


def test_json_report(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(capsys, monkeypatch, "apply", "--dry-run", "--json", str(demo))
    assert code == 0
    report = json.loads(out)
    changes = report["repositories"][0]["changes"]
    assert {c["path"] for c in changes} >= {"docker-compose.yml", "docker-compose.vds.yml"}
    assert report["written"] is False
    code, again, _ = cli(capsys, monkeypatch, "apply", "--dry-run", "--json", str(demo))
    assert again == out  # byte-identical run to run


def test_exit_non_zero_on_fix(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli(capsys, monkeypatch, "apply", "--exit-non-zero-on-fix", str(demo))[0] == 1
    assert cli(capsys, monkeypatch, "apply", "--exit-non-zero-on-fix", str(demo))[0] == 0


def test_select_and_ignore(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, out, _ = cli(capsys, monkeypatch, "apply", "--check", "--select", "CF102", str(demo))
    assert "docker-compose.yml (CF102)" in out and "CF101" not in out
    _, out, _ = cli(capsys, monkeypatch, "apply", "--check", "--ignore", "CF1", str(demo))
    assert "docker-compose" not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["apply", "--select", "CF999", "."], "unknown rule 'CF999'"),
        (["apply", "--uid", "no body", "."], "is not a user or group name"),
        (["apply", "--dry-run", "--check", "."], "cannot be used together"),
        (["apply", "/no/such/folder"], "no such file or folder"),
        (["apply", "--frobnicate"], "No such option"),
        (["rules", "CF999"], "unknown rule"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = cli(capsys, monkeypatch, *args)
    assert code == 2
    errors = [line for line in err.splitlines() if "error" in line]
    assert len(errors) == 1 and message in errors[0], err
    assert "Traceback" not in err


def test_unknown_config_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.celeryfix]\nselekt = ['CF101']\n")
    code, _, err = cli(capsys, monkeypatch, "apply", str(tmp_path))
    assert code == 2 and "unknown key `selekt`" in err


def test_config_from_pyproject(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (demo / "pyproject.toml").write_text('[tool.celeryfix]\nuid = "celery"\nselect = ["CF101"]\n')
    _, diff, _ = cli(capsys, monkeypatch, "apply", "--dry-run", str(demo))
    assert "--uid=celery --gid=nogroup" in diff and "--schedule" not in diff
    _, diff, _ = cli(capsys, monkeypatch, "apply", "--dry-run", "--uid", "app", str(demo))
    assert "--uid=app" in diff  # the command line wins


def test_rules_listing_and_docs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli(capsys, monkeypatch, "rules")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()][:2] == ["CF101", "CF102"]
    code, out, _ = cli(capsys, monkeypatch, "rules", "cf101")
    assert code == 0 and "## Why" in out and "+++ b/docker-compose.yml" in out


def test_version(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = cli(capsys, monkeypatch, "--version")
    assert code == 0 and out.startswith("celeryfix ")


def test_color_always_and_no_color(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, out, _ = cli(capsys, monkeypatch, "apply", "--dry-run", "--color=always", str(demo))
    assert "\x1b[" in out
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = cli(capsys, monkeypatch, "apply", "--dry-run", str(demo))
    assert "\x1b[" not in out


def test_module_entry_point(demo: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "celeryfix", "apply", "--check", "-q", str(demo)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "would fix" in done.stdout
