"""Launch sites beyond compose (start scripts, Dockerfiles, Procfiles, supervisord, Kubernetes).

Each module of this package that defines `plan_site(context, options) -> SitePlan` is a planner
the engine runs after the compose and settings planners; adding a kind of site touches one
module here (and its rule modules and tests).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from celeryfix.models import Edit, Note

if TYPE_CHECKING:
    from celeryfix.config import Options
    from celeryfix.engine import RepoContext


@dataclass
class SitePlan:
    edits: list[Edit] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    app_names: list[str] = field(default_factory=list)  # -A values seen: settings hints


SitePlanner = Callable[["RepoContext", "Options"], SitePlan]


@cache
def site_planners() -> tuple[SitePlanner, ...]:
    """Every `plan_site` of this package's modules, in module name order."""
    planners: list[Any] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "plan_site"):
            planners.append(module.plan_site)
    return tuple(planners)
