"""A Celery setting a rule wants present, and the names it goes by."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WantedSetting:
    """One setting to add where Celery reads it, unless the project gives it already."""

    rule: str  # "CF203"
    name: str  # the lower-case Celery setting: "worker_log_color"
    old_name: str  # the pre-4.0 name, what a no-namespace Django settings module must use
    value: str  # Python source of the value: "False"
    # CF201: take the project's own value of this setting (and its old name), default `value`.
    mirrors: str | None = None
    mirrors_old_name: str | None = None
