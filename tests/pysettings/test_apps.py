"""Finding Celery apps and where they read their configuration."""

from __future__ import annotations

import pytest

from celeryfix.pysettings.apps import ConfigKind, scan_apps, settings_module_defaults
from celeryfix.pysettings.errors import SettingsSyntaxError
from celeryfix.pysettings.modules import ModuleResolver
from celeryfix.pysettings.sources import SourceIndex


def scan(files: dict[str, str]):  # type: ignore[no-untyped-def]
    return scan_apps(SourceIndex(files), ModuleResolver(files, [""]))


def test_aliases_subclasses_and_attribute_forms() -> None:
    files = {
        "a.py": "from celery import Celery as C\napp = C('a')\n",
        "b.py": "import celery\nworker: celery.Celery = celery.Celery('b')\n",
        "c.py": "from celery import Celery\nclass MyCelery(Celery):\n    pass\napp = MyCelery('c')\n",
        "d.py": "x = 'Celery('\n",
    }
    found = sorted((app.path, app.var) for app in scan(files).apps)
    assert found == [("a.py", "app"), ("b.py", "worker"), ("c.py", "app")]


def test_config_sources() -> None:
    app = (
        "import os\nfrom celery import Celery\nfrom django.conf import settings\n"
        "import celeryconfig\n"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'p.settings'\n"
        "app = Celery('p', config_source='django.conf.settings', namespace='CELERY')\n"
        "app.config_from_object(settings, namespace='TASKS')\n"
        "app.config_from_object(celeryconfig)\n"
        "app.config_from_object('p.config', False, False, 'X')\n"
        "app.config_from_envvar('CONFIG')\n"
    )
    (found,) = scan({"p/celery.py": app}).apps
    assert found.namespace == "CELERY"
    assert found.settings_modules == ["p.settings"]
    kinds = [(c.kind, c.namespace, c.module) for c in found.configs]
    assert kinds == [
        (ConfigKind.DJANGO, None, None),
        (ConfigKind.DJANGO, "TASKS", None),
        (ConfigKind.MODULE, None, "celeryconfig"),
        (ConfigKind.MODULE, "X", "p.config"),
        (ConfigKind.UNKNOWN, None, None),
    ]
    assert "config_from_envvar" in found.configs[-1].reason


def test_conf_updates_and_attributes() -> None:
    app = (
        "from celery import Celery\napp = Celery('p')\n"
        "app.conf.update(broker_url='r', **EXTRA)\n"
        "app.conf.update({'task_serializer': 'json'})\n"
        "app.conf.worker_log_color = False\n"
        "other.conf.update(x=1)\n"
    )
    (found,) = scan({"p/celery.py": app}).apps
    assert [u.opaque for u in found.conf_updates] == [True, False]
    assert [(i.name, i.value) for i in found.conf_items] == [
        ("broker_url", "'r'"),
        ("task_serializer", "'json'"),
        ("worker_log_color", "False"),
    ]


def test_config_from_object_on_an_imported_app() -> None:
    files = {
        "p/__init__.py": "",
        "p/celery.py": "from celery import Celery\napp = Celery('p')\n",
        "p/apps.py": (
            "import os\nfrom .celery import app as celery_app\n"
            "class C:\n    def ready(self):\n"
            "        os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'p.settings')\n"
            "        celery_app.config_from_object('django.conf:settings', namespace='CELERY')\n"
        ),
    }
    (found,) = scan(files).apps
    assert [(c.kind, c.namespace, c.path) for c in found.configs] == [
        (ConfigKind.DJANGO, "CELERY", "p/apps.py")
    ]
    assert found.settings_modules == ["p.settings"]


def test_settings_module_defaults_of_manage_wsgi_asgi() -> None:
    files = {
        "manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'a.settings')\n",
        "a/wsgi.py": "from os import environ\nenviron.setdefault('DJANGO_SETTINGS_MODULE', 'a.prod')\n",
        "a/other.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'ignored')\n",
    }
    assert scan(files).settings_module_defaults == {
        "manage.py": ["a.settings"],
        "a/wsgi.py": ["a.prod"],
    }


def test_settings_module_defaults_ignore_other_variables() -> None:
    import ast

    tree = ast.parse("import os\nos.environ.setdefault('OTHER', 'x')\nos.environ['OTHER'] = 'y'\n")
    assert settings_module_defaults(tree) == []


def test_invalid_app_module_raises_templated_one_is_listed() -> None:
    with pytest.raises(SettingsSyntaxError):
        scan({"p/celery.py": "app = Celery(\n"})
    templated = scan({"p/celery.py": "{% if x %}\napp = Celery('{{ name }}')\n{% endif %}\n"})
    assert templated.apps == [] and templated.templated == ["p/celery.py"]
