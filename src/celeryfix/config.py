"""`[tool.celeryfix]` of a repository's pyproject.toml, the command line on top: one Options."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from celeryfix.rule import Rule, Safety
from celeryfix.rules import all_rules

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    # mypy checks this branch (python_version 3.10) even where tomli is not installed.
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

DEFAULT_SCHEDULE = "/tmp/celerybeat-schedule"
# A user or group name as useradd accepts it, or a number.
_ACCOUNT = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?|[0-9]+")
_PATH = re.compile(r"/[A-Za-z0-9_./-]+")


class ConfigError(Exception):
    """Bad configuration or options: exit 2."""


@dataclass(frozen=True)
class Options:
    select: tuple[str, ...] = ()  # rule ids or prefixes; empty: every safe rule
    ignore: tuple[str, ...] = ()
    uid: str | None = None  # None: nobody
    gid: str | None = None  # None: chosen from the image (nogroup, or nobody on RHEL-family images)
    schedule: str = DEFAULT_SCHEDULE
    exclude: tuple[str, ...] = ()
    enabled: frozenset[str] = field(default_factory=frozenset)

    def is_enabled(self, rule_id: str) -> bool:
        return rule_id in self.enabled


_KEYS = {"select", "ignore", "uid", "gid", "schedule", "exclude"}


def _names(rule: Rule, selector: str) -> bool:
    """The selector is the rule's own id or name, not a prefix or ALL."""
    return selector.upper() in {rule.id, rule.name.upper()}


def _matches(rule: Rule, selector: str) -> bool:
    selector = selector.upper()
    return (
        selector == "ALL"
        or (selector != "" and rule.id.startswith(selector))
        or _names(rule, selector)
    )


def _selected(rule: Rule, select: Sequence[str]) -> bool:
    # An unsafe rule runs only when selected by its id (or name): `ALL` or a prefix such as
    # `CF1` never opts a repository into an unsafe change.
    if rule.safety is Safety.UNSAFE:
        return any(_names(rule, s) for s in select)
    return any(_matches(rule, s) for s in select) if select else True


def enabled_rules(select: Sequence[str], ignore: Sequence[str]) -> frozenset[str]:
    """Ids of the rules that run: the selected ones (default: every safe rule) less the ignored."""
    rules = all_rules()
    for selector in (*select, *ignore):
        if not any(_matches(rule, selector) for rule in rules):
            raise ConfigError(f"unknown rule {selector!r} (see `celeryfix rules`)")
    chosen = [rule for rule in rules if _selected(rule, select)]
    return frozenset(r.id for r in chosen if not any(_matches(r, s) for s in ignore))


def _check_value(key: str, value: Any, where: str) -> Any:
    if key in {"select", "ignore", "exclude"}:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: `{key}` must be a list of strings")
        return tuple(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: `{key}` must be a string")
    check_account_or_path(key, value, where)
    return value


def check_account_or_path(key: str, value: str, where: str) -> None:
    """uid/gid are user or group names (or numbers); schedule is an absolute path."""
    # fullmatch: `$` alone would let a trailing newline into the compose command.
    if key in {"uid", "gid"} and not _ACCOUNT.fullmatch(value):
        raise ConfigError(f"{where}: `{key}` {value!r} is not a user or group name")
    if key == "schedule" and not _PATH.fullmatch(value):
        raise ConfigError(
            f"{where}: `schedule` {value!r} must be an absolute path of plain characters"
        )


def read_pyproject(root: Path) -> dict[str, Any]:
    """The `[tool.celeryfix]` table of root/pyproject.toml ({} when there is none)."""
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read [tool.celeryfix]: {error}") from None
    tool = data.get("tool", {})
    table = tool.get("celeryfix", {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.celeryfix] must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        known = ", ".join(sorted(_KEYS))
        raise ConfigError(
            f"{path}: unknown key `{unknown[0]}` in [tool.celeryfix] (known: {known})"
        )
    return {key: _check_value(key, value, str(path)) for key, value in table.items()}


def resolve_options(root: Path, cli: dict[str, Any]) -> Options:
    """The repository's configuration with the command line's options on top."""
    settings = read_pyproject(root)
    for key, value in cli.items():
        if value not in (None, (), []):
            settings[key] = tuple(value) if isinstance(value, list) else value
    options = replace(Options(), **settings)
    return replace(options, enabled=enabled_rules(options.select, options.ignore))
