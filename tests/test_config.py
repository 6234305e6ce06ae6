"""`[tool.celeryfix]` and the command line: one Options; every mistake is a ConfigError that names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from celeryfix import config
from celeryfix.config import (
    DEFAULT_SCHEDULE,
    ConfigError,
    Options,
    check_account_or_path,
    enabled_rules,
    read_pyproject,
    resolve_options,
)
from celeryfix.rule import FileKind, Rule, Safety
from celeryfix.rules import all_rules


def pyproject(root: Path, text: str | bytes) -> Path:
    path = root / "pyproject.toml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


SAFE_IDS = frozenset(rule.id for rule in all_rules() if rule.safety is Safety.SAFE)


# --- reading the table ------------------------------------------------------------------------


def test_no_pyproject_and_no_table(tmp_path: Path) -> None:
    assert read_pyproject(tmp_path) == {}
    pyproject(tmp_path, '[project]\nname = "crm"\n[tool.ruff]\nline-length = 100\n')
    assert read_pyproject(tmp_path) == {}


def test_every_key(tmp_path: Path) -> None:
    pyproject(
        tmp_path,
        "[tool.celeryfix]\n"
        'select = ["CF1", "CF2"]\n'
        'ignore = ["CF203"]\n'
        'uid = "celery"\n'
        'gid = "celery"\n'
        'schedule = "/var/run/celery/beat-schedule"\n'
        'exclude = ["deploy/legacy/*"]\n',
    )
    assert read_pyproject(tmp_path) == {
        "select": ("CF1", "CF2"),
        "ignore": ("CF203",),
        "uid": "celery",
        "gid": "celery",
        "schedule": "/var/run/celery/beat-schedule",
        "exclude": ("deploy/legacy/*",),
    }


@pytest.mark.parametrize("key", ["selct", "exclude-dirs", "unsafe", "UID"])
def test_unknown_key_is_named(tmp_path: Path, key: str) -> None:
    path = pyproject(tmp_path, f'[tool.celeryfix]\nselect = ["CF1"]\n"{key}" = 1\n')
    with pytest.raises(ConfigError) as raised:
        read_pyproject(tmp_path)
    assert f"unknown key `{key}`" in str(raised.value)
    assert str(path) in str(raised.value)


def test_unknown_keys_name_the_first_in_order(tmp_path: Path) -> None:
    pyproject(tmp_path, "[tool.celeryfix]\nzeta = 1\nalpha = 2\n")
    with pytest.raises(ConfigError, match="unknown key `alpha`"):
        read_pyproject(tmp_path)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('select = "CF101"', "`select` must be a list of strings"),
        ("ignore = [101]", "`ignore` must be a list of strings"),
        ("exclude = [true]", "`exclude` must be a list of strings"),
        ("uid = 1000", "`uid` must be a string"),
        ('gid = ["nogroup"]', "`gid` must be a string"),
        ("schedule = false", "`schedule` must be a string"),
    ],
)
def test_wrong_types(tmp_path: Path, line: str, message: str) -> None:
    pyproject(tmp_path, f"[tool.celeryfix]\n{line}\n")
    with pytest.raises(ConfigError, match=message):
        read_pyproject(tmp_path)


@pytest.mark.parametrize(
    "text",
    [
        "[tool.celeryfix\nselect = []\n",  # TOML syntax
        b"[tool.celeryfix]\nuid = '\xff'\n",  # not UTF-8
        "[tool]\nceleryfix = 1\n",  # not a table
    ],
    ids=["syntax", "encoding", "not-a-table"],
)
def test_unreadable_configuration(tmp_path: Path, text: str | bytes) -> None:
    path = pyproject(tmp_path, text)
    with pytest.raises(ConfigError, match=str(path)):
        read_pyproject(tmp_path)


def test_a_tool_key_that_is_not_a_table_is_not_ours(tmp_path: Path) -> None:
    pyproject(tmp_path, 'tool = "poetry"\n')
    assert read_pyproject(tmp_path) == {}


# --- uid, gid, schedule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["nobody", "celery", "_svc", "app-user", "a.b", "1000", "0", "host$"]
)
@pytest.mark.parametrize("key", ["uid", "gid"])
def test_good_accounts(key: str, value: str) -> None:
    check_account_or_path(key, value, "--" + key)


@pytest.mark.parametrize(
    "value",
    ["", "no body", "-rf", "nobody\n", "nobody;id", "$(id)", "a" * 33, "1000x", "é", "a$b"],
)
@pytest.mark.parametrize("key", ["uid", "gid"])
def test_bad_accounts(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"--{key}: `{key}` .* is not a user or group name"):
        check_account_or_path(key, value, "--" + key)


def test_bad_account_in_pyproject_names_the_file(tmp_path: Path) -> None:
    path = pyproject(tmp_path, '[tool.celeryfix]\ngid = "no group"\n')
    with pytest.raises(ConfigError, match=f"{path}: `gid` 'no group' is not a user or group name"):
        read_pyproject(tmp_path)


def test_good_schedule() -> None:
    check_account_or_path("schedule", "/var/run/celery/beat-schedule.db", "--schedule")


@pytest.mark.parametrize(
    "value",
    ["", "celerybeat-schedule", "./schedule", "/tmp/a b", "/tmp/x\n", "/tmp/$HOME", "/tmp/é"],
)
def test_bad_schedule(value: str) -> None:
    with pytest.raises(ConfigError, match=r"`schedule` .* must be an absolute path"):
        check_account_or_path("schedule", value, "--schedule")


# --- select and ignore ----------------------------------------------------------------------------


def test_default_is_every_safe_rule() -> None:
    assert enabled_rules((), ()) == SAFE_IDS
    assert {"CF101", "CF102"} <= SAFE_IDS


@pytest.mark.parametrize(
    ("select", "ignore", "expected"),
    [
        (["CF101"], [], {"CF101"}),
        (["cf101"], [], {"CF101"}),
        (["CF1"], [], {i for i in SAFE_IDS if i.startswith("CF1")}),
        (["CF10"], ["CF102"], {i for i in SAFE_IDS if i.startswith("CF10")} - {"CF102"}),
        (["worker-runs-as-root"], [], {"CF101"}),
        (["WORKER-RUNS-AS-ROOT", "CF102"], [], {"CF101", "CF102"}),
        ([], ["CF1"], {i for i in SAFE_IDS if not i.startswith("CF1")}),
        (["ALL"], ["beat-runs-as-root"], SAFE_IDS - {"CF102"}),
        (["all"], [], SAFE_IDS),
        (["CF"], ["ALL"], set()),
    ],
)
def test_select_and_ignore(select: list[str], ignore: list[str], expected: set[str]) -> None:
    assert enabled_rules(select, ignore) == expected


@pytest.mark.parametrize(
    ("select", "ignore", "bad"),
    [
        (["CF999"], [], "CF999"),
        ([], ["CF3"], "CF3"),
        (["CF101", "nope"], [], "nope"),
        ([""], [], ""),
    ],
)
def test_unknown_selectors(select: list[str], ignore: list[str], bad: str) -> None:
    with pytest.raises(ConfigError, match=f"unknown rule {bad!r}"):
        enabled_rules(select, ignore)


RISKY = Rule("CF901", "risky-rewrite", "An unsafe test rule.", Safety.UNSAFE, FileKind.PYTHON, "")
SAFE = Rule("CF101", "worker-runs-as-root", "A safe test rule.", Safety.SAFE, FileKind.COMPOSE, "")


@pytest.fixture
def with_unsafe_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "all_rules", lambda: (SAFE, RISKY))


@pytest.mark.usefixtures("with_unsafe_rule")
@pytest.mark.parametrize(
    ("select", "ignore", "expected"),
    [
        ([], [], {"CF101"}),
        (["ALL"], [], {"CF101"}),  # ALL never opts into an unsafe rule
        (["CF"], [], {"CF101"}),  # nor does a prefix
        (["CF9"], [], set()),
        (["CF901"], [], {"CF901"}),
        (["cf901", "CF1"], [], {"CF101", "CF901"}),
        (["risky-rewrite"], [], {"CF901"}),
        (["CF901"], ["CF9"], set()),
        (["ALL", "CF901"], ["CF101"], {"CF901"}),
    ],
)
def test_unsafe_rules_run_only_when_selected_by_id(
    select: list[str], ignore: list[str], expected: set[str]
) -> None:
    assert enabled_rules(select, ignore) == expected


# --- the command line on top ----------------------------------------------------------------------


def test_defaults_without_configuration(tmp_path: Path) -> None:
    options = resolve_options(tmp_path, {})
    assert options == Options(enabled=SAFE_IDS)
    assert (options.uid, options.gid, options.schedule) == (None, None, DEFAULT_SCHEDULE)
    assert options.is_enabled("CF101") and not options.is_enabled("CF999")


def test_command_line_wins(tmp_path: Path) -> None:
    pyproject(
        tmp_path,
        '[tool.celeryfix]\nselect = ["CF1"]\nuid = "celery"\ngid = "celery"\nexclude = ["legacy"]\n',
    )
    options = resolve_options(
        tmp_path, {"uid": "1000", "select": ["CF101"], "gid": None, "ignore": [], "exclude": ()}
    )
    assert options.uid == "1000"  # given: wins
    assert options.select == ("CF101",)  # given: replaces, as a tuple
    assert options.gid == "celery"  # None: not given
    assert options.exclude == ("legacy",)  # empty: not given
    assert options.enabled == frozenset({"CF101"})


def test_configuration_only(tmp_path: Path) -> None:
    pyproject(tmp_path, '[tool.celeryfix]\nignore = ["CF102"]\nschedule = "/run/beat"\n')
    options = resolve_options(tmp_path, {"select": None, "ignore": None})
    assert options.schedule == "/run/beat"
    assert options.enabled == SAFE_IDS - {"CF102"}


def test_errors_surface_from_resolve(tmp_path: Path) -> None:
    pyproject(tmp_path, "[tool.celeryfix]\nselect = ['CF7']\n")
    with pytest.raises(ConfigError, match="unknown rule 'CF7'"):
        resolve_options(tmp_path, {})
    pyproject(tmp_path, "[tool.celeryfix]\nverbose = true\n")
    with pytest.raises(ConfigError, match="unknown key `verbose`"):
        resolve_options(tmp_path, {"select": ["CF101"]})
