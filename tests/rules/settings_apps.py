"""The Celery app modules the settings rule tests (CF201-CF203) plan against."""

from __future__ import annotations


def django_app(namespace: str | None = "CELERY", dsm: str = "proj.settings") -> str:
    """`proj/celery.py`: an app reading Django settings module `dsm` (no namespace: None)."""
    argument = f', namespace="{namespace}"' if namespace else ""
    return (
        "import os\n"
        "from celery import Celery\n"
        f'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{dsm}")\n'
        'app = Celery("proj")\n'
        f'app.config_from_object("django.conf:settings"{argument})\n'
    )


def module_app(tail: str) -> str:
    """`proj/celery.py`: an app configured by `tail` (config_from_object, conf.update, ...)."""
    return f'from celery import Celery\napp = Celery("proj")\n{tail}'


APP = django_app()
NO_NAMESPACE_APP = django_app(namespace=None)
