"""The rule catalog. Each module in this package defines one rule and registers it.

Adding a rule touches one module here and its test file in tests/rules/.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

from celeryfix.rule import Rule

_REGISTRY: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    """Add `rule` to the catalog; ids are unique."""
    if rule.id in _REGISTRY and _REGISTRY[rule.id] is not rule:
        raise ValueError(f"rule id {rule.id} registered twice")
    _REGISTRY[rule.id] = rule
    return rule


@cache
def rule_modules() -> tuple[ModuleType, ...]:
    """Every module of this package, imported once."""
    return tuple(
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
    )


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every rule, sorted by id."""
    rule_modules()
    return tuple(sorted(_REGISTRY.values(), key=lambda rule: rule.id))


def rule_by_id(rule_id: str) -> Rule | None:
    """The rule with this id (case-insensitive), or None."""
    return {rule.id: rule for rule in all_rules()}.get(rule_id.upper())
