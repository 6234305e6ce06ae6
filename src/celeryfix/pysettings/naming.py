"""Which names Celery reads a setting under, for each way an app can be configured.

Celery (celery/utils/collections.py, ConfigurationView._to_keys) looks a setting up as
`prefix + name` (upper-cased when the prefix is), then the plain name, then its pre-4.0 name.
Django settings hold only upper-case names, so there the plain lower-case name is never seen.
Without a namespace, a module using a majority of old names is read in old-name mode, where a
new name is an error, and the other way round (celery/app/utils.py, detect_settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

# The first part of every new-style setting name (celery/app/defaults.py, NAMESPACES).
_NEW_NAMESPACES = frozenset(
    [
        "arangodb",
        "azureblockblob",
        "beat",
        "broker",
        "cache",
        "cassandra",
        "control",
        "cosmosdbsql",
        "couchbase",
        "database",
        "elasticsearch",
        "event",
        "gcs",
        "mongodb",
        "redis",
        "result",
        "s3",
        "security",
        "task",
        "worker",
    ]
)
_NEW_TOP_LEVEL = frozenset(
    ["accept_content", "enable_utc", "imports", "include", "result_accept_content", "timezone"]
)
_OLD_PREFIXES = ("CELERY", "BROKER_")


class Style(str, Enum):
    PREFIXED = "prefixed"  # a namespace: CELERY_WORKER_LOG_COLOR
    OLD = "old"  # pre-4.0 names: CELERYD_LOG_COLOR
    NEW = "new"  # lower-case names: worker_log_color


def match_case(name: str, prefix: str) -> str:
    """Celery's case rule for namespaced names: the case of the prefix."""
    return name.upper() if prefix.isupper() else name.lower()


def is_new_style(name: str) -> bool:
    """Whether `name` looks like a lower-case (new-style) Celery setting."""
    return name in _NEW_TOP_LEVEL or (name.islower() and name.split("_")[0] in _NEW_NAMESPACES)


def is_old_style(name: str) -> bool:
    """Whether `name` looks like an upper-case pre-4.0 Celery setting."""
    return name.isupper() and name.startswith(_OLD_PREFIXES)


@dataclass(frozen=True)
class Naming:
    """How one configuration source names settings."""

    style: Style
    django: bool  # read through django.conf:settings (upper-case names only)
    prefix: str = ""  # Celery's prefix: the namespace plus "_"

    @classmethod
    def for_source(cls, namespace: str | None, *, django: bool, old: bool) -> Naming:
        """The naming of a source with this namespace; `old` is its majority of old names."""
        if namespace:
            return cls(Style.PREFIXED, django, namespace.rstrip("_") + "_")
        return cls(Style.OLD if django or old else Style.NEW, django)

    def lookup(self, name: str, old_name: str) -> tuple[str, ...]:
        """The names Celery tries for setting `name`, in its order."""
        if self.style is Style.OLD:
            return (old_name,)
        if self.style is Style.NEW:
            return (name,)  # an old name there is an error: "Cannot mix new and old names"
        names = [match_case(self.prefix + name, self.prefix)]
        if not self.django:
            names.append(name)
        names.append(old_name)  # with a namespace, Celery reads old names too
        return tuple(dict.fromkeys(names))

    def insert_name(self, name: str, old_name: str) -> str:
        """The name to write for setting `name`."""
        if self.style is Style.PREFIXED:
            return match_case(self.prefix + name, self.prefix)
        return old_name if self.style is Style.OLD else name

    def misnamed(self, name: str, old_name: str) -> tuple[str, ...]:
        """Names people write for `name` that this source ignores (or refuses, when mixed)."""
        seen = self.lookup(name, old_name)
        tries = ("CELERY_" + name.upper(), name.upper(), name, old_name)
        return tuple(n for n in dict.fromkeys(tries) if n not in seen)

    def in_family(self, name: str) -> bool:
        """Whether `name` belongs to the block of Celery settings of this source."""
        if self.style is Style.PREFIXED:
            return name.startswith(match_case(self.prefix, self.prefix))
        if self.style is Style.OLD:
            return is_old_style(name)
        return is_new_style(name)

    @property
    def readable(self) -> bool:
        """False for a lower-case namespace on Django, whose settings are upper-case only."""
        return not (self.django and self.style is Style.PREFIXED and not self.prefix.isupper())

    def describe(self) -> str:
        if self.style is Style.PREFIXED:
            return f"namespace {self.prefix.rstrip('_')!r}"
        if self.style is Style.OLD:
            return "no namespace (old setting names)"
        return "no namespace (lower-case setting names)"
