"""Split settings: the base modules an environment builds on, and its sibling environments.

A split-settings package (`config/settings/base.py` holding the Celery block, `local.py` and
`production.py` each starting with `from .base import *`) names one environment in manage.py
and maybe another in wsgi.py or a compose file; others (`test.py`, `staging.py`) are often
named nowhere the repository shows. The shared base is where a line reaches every environment,
and every environment that builds on it must see the line without getting a conflicting value.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from celeryfix.pysettings.modules import folder_of
from celeryfix.pysettings.sources import SourceIndex
from celeryfix.pysettings.timeline import Timeline

_STAR_IMPORT = re.compile(r"\bimport\s*\*")


def bases(timeline: Timeline, leaf: str, in_family: Callable[[str], bool]) -> set[str]:
    """The modules `leaf` builds on, and theirs in turn.

    A base is star-imported on every run before the importer's own first setting of the family:
    the importer extends it. A module star-imported after that (`from .local_settings import *`
    at the end) overrides the importer instead, and is not a base.
    """
    found: set[str] = set()
    todo = [leaf]
    while todo:
        path = todo.pop()
        first = timeline.first_binding(path, in_family)
        for star in timeline.star_imports(path):
            if first is not None and star.order > first:
                break
            if star.target != leaf and star.target not in found:
                found.add(star.target)
                todo.append(star.target)
    return found


def sibling_environments(
    index: SourceIndex, timeline: Timeline, leaf: str, shared: set[str], known: set[str]
) -> list[str]:
    """Modules of `leaf`'s folder that star-import one of the `shared` bases on every run.

    `known` (the leaf's own files, the environments already found) are left out. Only files
    that parse are read: a sibling that does not is no environment Django could load.
    """
    siblings: list[str] = []
    folder = folder_of(leaf)
    for path, text in index.paths.items():
        if (
            path in known
            or folder_of(path) != folder
            or not _STAR_IMPORT.search(text)
            or index.tree_or_none(path) is None
        ):
            continue
        if _star_closure(index, timeline, path) & shared:
            siblings.append(path)
    return sorted(siblings)


def _star_closure(index: SourceIndex, timeline: Timeline, start: str) -> set[str]:
    """Every module `start` star-imports on every run, directly or through another."""
    found: set[str] = set()
    todo = [start]
    while todo:
        for star in timeline.star_imports(todo.pop()):
            if star.target not in found and index.tree_or_none(star.target) is not None:
                found.add(star.target)
                todo.append(star.target)
    return found
