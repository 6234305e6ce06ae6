"""Oracle: the real Celery app of each fixture project reads the planned values.

Each fixture project is written twice (as is, and with the planned edits applied), then its Celery
app is loaded in a subprocess (our own fixture code, never a repository's) and `app.conf` is
read: before the fix the three settings hold Celery's defaults, after it the intended values.
Projects load one after the other in a few processes (before, after, and one per project that
needs django.setup()), which keeps the whole oracle to a few seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from celeryfix.edits import apply_edits
from celeryfix.pysettings import SettingsHints, plan_settings
from celeryfix.rules.cf201_broker_connection_retry_on_startup import WANTED as RETRY
from celeryfix.rules.cf202_worker_hijack_root_logger import WANTED as HIJACK
from celeryfix.rules.cf203_worker_log_color import WANTED as COLOR

pytestmark = pytest.mark.oracle

KEYS = ("broker_connection_retry_on_startup", "worker_hijack_root_logger", "worker_log_color")
DEFAULTS = {KEYS[0]: None, KEYS[1]: True, KEYS[2]: None}
FIXED = {KEYS[0]: True, KEYS[1]: False, KEYS[2]: False}

# Loads the Celery app of each job in turn and reads its conf. A job is one fixture project: its
# folder goes first on sys.path, its DJANGO_SETTINGS_MODULE is set, and its modules (and Django's
# settings) are forgotten before the next job, so several projects load in one process.
READ_CONF = """
import importlib, json, os, sys
from django.conf import settings
from django.utils.functional import empty
results = {}
for job in json.load(sys.stdin):
    os.chdir(job["root"])
    sys.path.insert(0, job["root"])
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    if job["settings_module"]:
        os.environ["DJANGO_SETTINGS_MODULE"] = job["settings_module"]
    for name in [n for n in sys.modules if n.split(".")[0] in ("proj", "config")]:
        del sys.modules[name]
    settings._wrapped = empty
    try:
        if job["setup"]:
            import django
            django.setup()
        app = getattr(importlib.import_module(job["module"]), "app")
        results[job["key"]] = {key: app.conf[key] for key in job["keys"]}
    except Exception as error:
        results[job["key"]] = f"{type(error).__name__}: {error}"
    sys.path.remove(job["root"])
print(json.dumps(results))
"""


def django_app(namespace: str | None = "CELERY", dsm: str = "proj.settings") -> str:
    argument = f', namespace="{namespace}"' if namespace else ""
    return (
        "import os\n"
        "from celery import Celery\n"
        f'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{dsm}")\n'
        'app = Celery("proj")\n'
        f'app.config_from_object("django.conf:settings"{argument})\n'
    )


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, str]
    expected: dict[str, object] = field(default_factory=lambda: dict(FIXED))
    settings_module: str | None = "proj.settings"  # DJANGO_SETTINGS_MODULE of the run
    hints: SettingsHints = field(default_factory=SettingsHints)
    django_setup: bool = False  # django.setup() runs AppConfig.ready(): a process of its own
    before: dict[str, object] = field(default_factory=lambda: dict(DEFAULTS))


SETTINGS_HEAD = 'SECRET_KEY = "x"\nUSE_TZ = True\n\n'
# Split settings: base.py holds the Celery block, two environments import it.
SPLIT = {
    "config/__init__.py": "",
    "config/celery_app.py": django_app(dsm="config.settings.local"),
    "config/settings/__init__.py": "",
    "config/settings/base.py": SETTINGS_HEAD + 'CELERY_BROKER_URL = "memory://"\n',
    "config/settings/local.py": "from .base import *  # noqa\nDEBUG = True\n",
    "config/settings/production.py": "from .base import *  # noqa\nDEBUG = False\n",
}
# Only the local environment turns broker_connection_retry off.
RETRY_FALSE_IN_LOCAL = {
    "proj/__init__.py": "",
    "proj/celery.py": django_app(dsm="proj.settings.local"),
    "proj/settings/__init__.py": "",
    "proj/settings/base.py": SETTINGS_HEAD + 'CELERY_BROKER_URL = "memory://"\n',
    "proj/settings/local.py": "from .base import *\nCELERY_BROKER_CONNECTION_RETRY = False\n",
    "proj/settings/production.py": "from .base import *\n",
}

# cookiecutter-django's layout: manage.py names local, nothing names the other environments.
MANAGE_LOCAL = (
    'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")\n'
)


def cookiecutter(**more: str) -> dict[str, str]:
    files = {
        "manage.py": MANAGE_LOCAL,
        "config/__init__.py": "",
        "config/celery_app.py": django_app(dsm="config.settings.local"),
        "config/settings/__init__.py": "",
        "config/settings/base.py": SETTINGS_HEAD
        + '# Celery\nCELERY_BROKER_URL = "memory://"\nCELERY_TASK_SERIALIZER = "json"\n',
        "config/settings/local.py": (
            "from .base import *  # noqa\nDEBUG = True\nCELERY_TASK_EAGER_PROPAGATES = True\n"
        ),
    }
    files.update({f"config/settings/{name}.py": text for name, text in more.items()})
    return files


UNNAMED = cookiecutter(
    production="from .base import *  # noqa\nDEBUG = False\n",
    test="from .base import *  # noqa\nCELERY_BROKER_CONNECTION_RETRY = False\n",
    staging="CELERY_WORKER_LOG_COLOR = True\nfrom .base import *  # noqa\n",
)

CASES = [
    Case(
        "single-settings",
        {
            "proj/__init__.py": "",
            "proj/celery.py": django_app(),
            "proj/settings.py": SETTINGS_HEAD + 'CELERY_BROKER_URL = "memory://"\n\nDEBUG = True\n',
        },
    ),
    Case(
        "split-local",
        SPLIT,
        settings_module="config.settings.local",
        hints=SettingsHints(settings_modules=("config.settings.production",)),
    ),
    Case(
        "split-production",
        SPLIT,
        settings_module="config.settings.production",
        hints=SettingsHints(settings_modules=("config.settings.production",)),
    ),
    Case(
        "no-namespace",
        {
            "proj/__init__.py": "",
            "proj/celery.py": django_app(namespace=None),
            "proj/settings.py": SETTINGS_HEAD
            + 'BROKER_URL = "memory://"\nCELERY_RESULT_BACKEND = "cache+memory://"\n',
        },
    ),
    Case(
        "no-namespace-nothing-yet",
        {
            "proj/__init__.py": "",
            "proj/celery.py": django_app(namespace=None),
            "proj/settings.py": SETTINGS_HEAD,
        },
    ),
    Case(
        "namespace-tasks",
        {
            "proj/__init__.py": "",
            "proj/celery.py": django_app(namespace="TASKS"),
            "proj/settings.py": SETTINGS_HEAD + 'TASKS_BROKER_URL = "memory://"\n',
        },
    ),
    Case(
        "plain-celeryconfig",
        {
            "proj/__init__.py": "",
            "proj/celery.py": 'from celery import Celery\napp = Celery("proj")\napp.config_from_object("proj.celeryconfig")\n',
            "proj/celeryconfig.py": 'broker_url = "memory://"\ntask_serializer = "json"\n',
        },
        settings_module=None,
    ),
    Case(
        "plain-celeryconfig-old-names",
        {
            "proj/__init__.py": "",
            "proj/celery.py": 'from celery import Celery\napp = Celery("proj")\napp.config_from_object("proj.celeryconfig")\n',
            "proj/celeryconfig.py": 'BROKER_URL = "memory://"\nCELERY_TASK_SERIALIZER = "json"\n',
        },
        settings_module=None,
    ),
    Case(
        "conf-update",
        {
            "proj/__init__.py": "",
            "proj/celery.py": 'from celery import Celery\napp = Celery("proj")\napp.conf.update(\n    broker_url="memory://",\n)\n',
        },
        settings_module=None,
    ),
    Case(
        "conf-attributes",
        {
            "proj/__init__.py": "",
            "proj/celery.py": 'from celery import Celery\napp = Celery("proj")\napp.conf.broker_url = "memory://"\n',
        },
        settings_module=None,
    ),
    Case(
        "config-source-argument",
        {
            "proj/__init__.py": "",
            "proj/celery.py": (
                "import os\nfrom celery import Celery\n"
                'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n'
                'app = Celery("proj", config_source="django.conf:settings", namespace="CELERY")\n'
            ),
            "proj/settings.py": SETTINGS_HEAD + 'CELERY_BROKER_URL = "memory://"\n',
        },
    ),
    Case(
        "settings-package-and-fragment",
        {
            "proj/__init__.py": "",
            "proj/celery.py": django_app(),
            "proj/settings/__init__.py": (
                "from .base import *\ntry:\n    from .local import *\nexcept ImportError:\n    pass\n"
            ),
            "proj/settings/base.py": SETTINGS_HEAD + "from .celery_settings import *\n",
            "proj/settings/celery_settings.py": 'CELERY_BROKER_URL = "memory://"\n',
        },
    ),
    Case(
        "retry-false",
        {
            "proj/__init__.py": "",
            "proj/celery.py": django_app(),
            "proj/settings.py": SETTINGS_HEAD + "CELERY_BROKER_CONNECTION_RETRY = False\n",
        },
        expected={**FIXED, KEYS[0]: False},
    ),
    Case(
        "retry-env-expression",
        {
            "proj/__init__.py": "",
            "proj/celery.py": django_app(),
            "proj/settings.py": SETTINGS_HEAD
            + "import os\nCELERY_BROKER_CONNECTION_RETRY = os.environ.get('RETRY', '0') == '1'\n",
        },
        expected={**FIXED, KEYS[0]: False},
    ),
    Case(
        "retry-false-in-local-only",
        RETRY_FALSE_IN_LOCAL,
        expected={**FIXED, KEYS[0]: False},
        settings_module="proj.settings.local",
        hints=SettingsHints(settings_modules=("proj.settings.production",)),
    ),
    Case(
        "retry-false-in-local-only-production",
        RETRY_FALSE_IN_LOCAL,
        settings_module="proj.settings.production",
        hints=SettingsHints(settings_modules=("proj.settings.production",)),
    ),
    Case("cookiecutter-base-and-local", cookiecutter(), settings_module="config.settings.local"),
    *(
        Case(f"unnamed-{name}", UNNAMED, expected, f"config.settings.{name}", before=before)
        for name, expected, before in [
            ("local", FIXED, DEFAULTS),
            ("production", FIXED, DEFAULTS),
            ("test", {**FIXED, KEYS[0]: False}, DEFAULTS),
            ("staging", {**FIXED, KEYS[2]: True}, {**DEFAULTS, KEYS[2]: True}),
        ]
    ),
    Case(
        "app-config-ready",
        {
            "proj/__init__.py": "",
            "proj/celery.py": 'from celery import Celery\napp = Celery("proj")\n',
            "proj/apps.py": (
                "from django.apps import AppConfig\n"
                "from proj.celery import app\n\n"
                "class CeleryConfig(AppConfig):\n"
                '    name = "proj"\n\n'
                "    def ready(self):\n"
                '        app.config_from_object("django.conf:settings", namespace="CELERY")\n'
            ),
            "proj/settings.py": SETTINGS_HEAD + 'INSTALLED_APPS = ["proj.apps.CeleryConfig"]\n',
        },
        hints=SettingsHints(settings_modules=("proj.settings",)),
        django_setup=True,
    ),
]


def app_module(files: dict[str, str]) -> str:
    module = next(p for p in files if p.endswith(("celery.py", "celery_app.py")))
    return module[: -len(".py")].replace("/", ".")


def write(root: Path, files: dict[str, str]) -> None:
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def fixed(case: Case) -> dict[str, str]:
    plan = plan_settings(case.files, (RETRY, HIJACK, COLOR), case.hints)
    return {
        path: apply_edits(text, [e for e in plan.edits if e.path == path])
        for path, text in case.files.items()
    }


def read_conf(jobs: list[dict[str, object]]) -> dict[str, object]:
    """Run one batch of jobs in a fresh interpreter; results by job key."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "PYTHONPATH")}
    completed = subprocess.run(
        [sys.executable, "-c", READ_CONF],
        input=json.dumps(jobs),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    results: dict[str, object] = json.loads(completed.stdout.strip().splitlines()[-1])
    return results


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Every case loaded before and after the fix: few processes, run side by side."""
    batches: dict[str, list[dict[str, object]]] = {}
    for case in CASES:
        for state, files in (("before", case.files), ("after", fixed(case))):
            root = tmp_path_factory.mktemp(f"{case.name}-{state}")
            write(root, files)
            job = {
                "key": f"{case.name}/{state}",
                "root": str(root),
                "module": app_module(files),
                "settings_module": case.settings_module,
                "setup": case.django_setup,
                "keys": KEYS,
            }
            batch = f"{case.name}/{state}" if case.django_setup else state
            batches.setdefault(batch, []).append(job)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(read_conf, batches.values()))
    return {key: value for result in results for key, value in result.items()}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_celery_reads_the_planned_values(case: Case, observed: dict[str, object]) -> None:
    assert observed[f"{case.name}/before"] == case.before
    assert observed[f"{case.name}/after"] == case.expected


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_case_is_fixed_by_an_edit(case: Case) -> None:
    assert fixed(case) != case.files
