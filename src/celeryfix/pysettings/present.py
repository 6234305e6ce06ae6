"""Which settings a configuration source gives already, in any form Celery accepts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from celeryfix.pysettings.apps import ConfItem
from celeryfix.pysettings.naming import Naming, is_new_style, is_old_style
from celeryfix.pysettings.timeline import Binding


def effective(
    namespace: Mapping[str, Binding], naming: Naming, name: str, old_name: str
) -> Binding | None:
    """The binding Celery reads for setting `name`, or None when the source does not give it."""
    return _first(namespace, naming.lookup(name, old_name))


def misnamed(
    namespace: Mapping[str, Binding], naming: Naming, name: str, old_name: str
) -> Binding | None:
    """A binding of `name` under a name this source ignores (CELERY_X without a namespace)."""
    return _first(namespace, naming.misnamed(name, old_name))


def _first(namespace: Mapping[str, Binding], names: Iterable[str]) -> Binding | None:
    return next((namespace[key] for key in names if key in namespace), None)


def conf_item(items: Iterable[ConfItem], name: str, old_name: str) -> ConfItem | None:
    """The last `app.conf` item giving setting `name` (new or old name), which wins."""
    found = None
    for item in items:
        if item.name in (name, old_name):
            found = item
    return found


def mostly_old_names(names: Iterable[str]) -> bool:
    """Celery's rule for a source without namespace: old-name mode when old names are the most."""
    old = new = 0
    for name in names:
        old += is_old_style(name)
        new += is_new_style(name)
    return old > new
