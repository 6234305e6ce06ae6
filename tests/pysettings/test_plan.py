"""plan_settings, before/after on exact text: each way a Celery app can read its settings."""

from __future__ import annotations

import pytest

from celeryfix.edits import apply_edits
from celeryfix.models import NoteKind
from celeryfix.pysettings import SettingsHints, SettingsPlan, SettingsSyntaxError, plan_settings
from celeryfix.rules.cf201_broker_connection_retry_on_startup import WANTED as RETRY
from celeryfix.rules.cf202_worker_hijack_root_logger import WANTED as HIJACK
from celeryfix.rules.cf203_worker_log_color import WANTED as COLOR

ALL = (RETRY, HIJACK, COLOR)

DJANGO_APP = (
    "import os\n"
    "from celery import Celery\n"
    'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{dsm}")\n'
    'app = Celery("proj")\n'
    'app.config_from_object("django.conf:settings", namespace="{namespace}")\n'
)
NO_NAMESPACE_APP = (
    "import os\n"
    "from celery import Celery\n"
    'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n'
    'app = Celery("proj")\n'
    'app.config_from_object("django.conf:settings")\n'
)
THREE = (
    "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True\n"
    "CELERY_WORKER_HIJACK_ROOT_LOGGER = False\n"
    "CELERY_WORKER_LOG_COLOR = False\n"
)


def django_app(dsm: str = "proj.settings", namespace: str = "CELERY") -> str:
    return DJANGO_APP.format(dsm=dsm, namespace=namespace)


PRODUCTION_TOO = SettingsHints(settings_modules=("proj.settings.production",))


def split(base: str, local: str, production: str = "from .base import *\n") -> dict[str, str]:
    """proj/settings/ base, local and production modules; the app defaults to local."""
    return {
        "proj/celery.py": django_app("proj.settings.local"),
        "proj/settings/base.py": base,
        "proj/settings/local.py": local,
        "proj/settings/production.py": production,
    }


def run(
    files: dict[str, str], hints: SettingsHints | None = None, wanted: tuple = ALL
) -> tuple[dict[str, str], SettingsPlan]:
    """The changed files (full new text) and the plan."""
    plan = plan_settings(files, wanted, hints or SettingsHints())
    changed = {
        path: apply_edits(files[path], [e for e in plan.edits if e.path == path])
        for path in {e.path for e in plan.edits}
    }
    return changed, plan


def check(files: dict[str, str], after: dict[str, str], **kwargs: object) -> SettingsPlan:
    changed, plan = run(files, **kwargs)  # type: ignore[arg-type]
    assert changed == after
    return plan


def check_noop(files: dict[str, str], **kwargs: object) -> SettingsPlan:
    return check(files, {}, **kwargs)


def messages(plan: SettingsPlan, kind: NoteKind | None = None) -> str:
    return "\n".join(n.message for n in plan.notes if kind is None or n.kind is kind)


# -- Django settings, namespace CELERY ------------------------------------------------------


def test_single_settings_module_after_the_celery_block() -> None:
    settings = (
        "import os\n"
        "DEBUG = False\n"
        "\n"
        "# Celery\n"
        'CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://redis:6379/0")\n'
        "CELERY_BEAT_SCHEDULE = {\n"
        '    "nightly": {"task": "t", "schedule": 60},\n'
        "}\n"
        "\n"
        "# Email\n"
        'EMAIL_HOST = "smtp"\n'
    )
    after = settings.replace("}\n\n# Email", "}\n" + THREE + "\n# Email")
    check(
        {"proj/celery.py": django_app(), "proj/settings.py": settings}, {"proj/settings.py": after}
    )


def test_crlf_module_gets_crlf_lines() -> None:
    settings = 'CELERY_BROKER_URL = "redis://"\r\nTIME_ZONE = "UTC"\r\n'
    after = (
        'CELERY_BROKER_URL = "redis://"\r\n' + THREE.replace("\n", "\r\n") + 'TIME_ZONE = "UTC"\r\n'
    )
    check(
        {"proj/celery.py": django_app(), "proj/settings.py": settings}, {"proj/settings.py": after}
    )


def test_no_celery_setting_yet_goes_to_the_end() -> None:
    settings = 'DEBUG = True\nTIME_ZONE = "UTC"\n'
    check(
        {"proj/celery.py": django_app(), "proj/settings.py": settings},
        {"proj/settings.py": settings + THREE},
    )


def test_end_of_file_without_final_line_break() -> None:
    settings = 'CELERY_BROKER_URL = "redis://"'
    check(
        {"proj/celery.py": django_app(), "proj/settings.py": settings},
        {"proj/settings.py": settings + "\n" + THREE.rstrip("\n")},
    )


def test_empty_settings_module() -> None:
    check({"proj/celery.py": django_app(), "proj/settings.py": ""}, {"proj/settings.py": THREE})


def test_spacing_around_equals_follows_the_block() -> None:
    settings = "CELERY_BROKER_URL='redis://'\nCELERY_TASK_TIME_LIMIT: Final[int]=300\nDEBUG = 1\n"
    after = (
        "CELERY_BROKER_URL='redis://'\nCELERY_TASK_TIME_LIMIT: Final[int]=300\n"
        "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP=True\n"
        "CELERY_WORKER_HIJACK_ROOT_LOGGER=False\n"
        "CELERY_WORKER_LOG_COLOR=False\n"
        "DEBUG = 1\n"
    )
    check(
        {"proj/celery.py": django_app(), "proj/settings.py": settings}, {"proj/settings.py": after}
    )


def test_comment_after_the_block_stays_below() -> None:
    settings = (
        'CELERY_BROKER_URL = "redis://"  # broker\n# CELERY_TASK_ALWAYS_EAGER = True\nX = 1\n'
    )
    after = (
        'CELERY_BROKER_URL = "redis://"  # broker\n'
        + THREE
        + "# CELERY_TASK_ALWAYS_EAGER = True\nX = 1\n"
    )
    check(
        {"proj/celery.py": django_app(), "proj/settings.py": settings}, {"proj/settings.py": after}
    )


def test_celery_config_source_argument() -> None:
    app = (
        "import os\nfrom celery import Celery\n"
        'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n'
        'app = Celery("proj", config_source="django.conf:settings", namespace="CELERY")\n'
    )
    settings = 'CELERY_BROKER_URL = "redis://"\n'
    check(
        {"proj/celery.py": app, "proj/settings.py": settings},
        {"proj/settings.py": settings + THREE},
    )


def test_config_from_object_in_app_config_ready() -> None:
    app = 'from celery import Celery\napp = Celery("proj")\n'
    apps_py = (
        "import os\n"
        "from django.apps import AppConfig\n"
        "from proj.celery import app\n"
        "\n"
        "class CeleryConfig(AppConfig):\n"
        '    name = "proj"\n'
        "\n"
        "    def ready(self):\n"
        '        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n'
        '        app.config_from_object("django.conf:settings", namespace="CELERY")\n'
    )
    settings = 'CELERY_BROKER_URL = "redis://"\n'
    check(
        {"proj/celery.py": app, "proj/apps.py": apps_py, "proj/settings.py": settings},
        {"proj/settings.py": settings + THREE},
    )


def test_settings_module_from_manage_py_in_a_subfolder() -> None:
    app = 'from celery import Celery\napp = Celery("crm")\napp.config_from_object("django.conf:settings", namespace="CELERY")\n'
    manage = 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")\n'
    settings = 'CELERY_BROKER_URL = "redis://"\n'
    check(
        {
            "backend/manage.py": manage,
            "backend/crm/__init__.py": "",
            "backend/crm/celery.py": app,
            "backend/crm/settings.py": settings,
        },
        {"backend/crm/settings.py": settings + THREE},
    )


def test_settings_module_from_hints_and_source_root() -> None:
    app = 'from celery import Celery\napp = Celery("crm")\napp.config_from_object("django.conf:settings", namespace="CELERY")\n'
    settings = 'CELERY_BROKER_URL = "redis://"\n'
    files = {
        "backend/crm/__init__.py": "",
        "backend/crm/celery.py": app,
        "backend/crm/settings.py": settings,
    }
    check(
        files,
        {"backend/crm/settings.py": settings + THREE},
        hints=SettingsHints(("crm",), ("crm.settings",), ("backend",)),
    )


# -- split settings ---------------------------------------------------------------------------


def test_split_settings_go_to_the_shared_base() -> None:
    base = (
        'CELERY_BROKER_URL = "redis://"\nCELERY_TASK_SERIALIZER = "json"\n\nLANGUAGE_CODE = "en"\n'
    )
    local = "from .base import *  # noqa\nDEBUG = True\n"
    production = 'from .base import *  # noqa\nDEBUG = False\nCELERY_BROKER_URL = "redis://prod"\n'
    after = base.replace('"json"\n', '"json"\n' + THREE)
    check(
        {
            "config/celery_app.py": django_app("config.settings.local"),
            "config/settings/__init__.py": "",
            "config/settings/base.py": base,
            "config/settings/local.py": local,
            "config/settings/production.py": production,
        },
        {"config/settings/base.py": after},
        hints=SettingsHints(settings_modules=("config.settings.production",)),
    )


def test_settings_package_star_imports() -> None:
    init = "from .base import *\ntry:\n    from .local import *\nexcept ImportError:\n    pass\n"
    base = 'CELERY_BROKER_URL = "redis://"\nSECRET_KEY = "x"\n'
    check(
        {
            "proj/celery.py": django_app(),
            "proj/settings/__init__.py": init,
            "proj/settings/base.py": base,
        },
        {"proj/settings/base.py": base.replace('"redis://"\n', '"redis://"\n' + THREE)},
    )


def test_settings_in_a_star_imported_fragment_of_the_repository() -> None:
    settings = "from .celery_settings import *\nDEBUG = True\n"
    fragment = 'CELERY_BROKER_URL = "redis://"\n'
    check(
        {
            "proj/celery.py": django_app(),
            "proj/settings.py": settings,
            "proj/celery_settings.py": fragment,
        },
        {"proj/celery_settings.py": fragment + THREE},
    )


def test_several_settings_modules_without_a_shared_base_each_get_it() -> None:
    one = 'CELERY_BROKER_URL = "redis://a"\n'
    two = 'CELERY_BROKER_URL = "redis://b"\nCELERY_WORKER_LOG_COLOR = True\n'
    check(
        {
            "proj/celery.py": django_app("proj.settings_a"),
            "proj/settings_a.py": one,
            "proj/settings_b.py": two,
        },
        {
            "proj/settings_a.py": one + THREE,
            "proj/settings_b.py": two + THREE.replace("CELERY_WORKER_LOG_COLOR = False\n", ""),
        },
        hints=SettingsHints(settings_modules=("proj.settings_b",)),
    )


def test_a_value_set_before_the_base_import_is_not_overridden() -> None:
    base = 'CELERY_BROKER_URL = "redis://"\n'
    local = "CELERY_WORKER_LOG_COLOR = True\nfrom .base import *\n"
    production = "from .base import *\n"
    _, plan = run(split(base, local, production), hints=PRODUCTION_TOO, wanted=(COLOR,))
    # base would override local's True: production gets its own line instead.
    assert [(e.path, e.text) for e in plan.edits] == [
        ("proj/settings/production.py", "CELERY_WORKER_LOG_COLOR = False\n")
    ]


def test_django_split_settings_include() -> None:
    init = (
        "from split_settings.tools import include, optional\n"
        "\n"
        "include(\n"
        '    "components/base.py",\n'
        '    "components/celery.py",\n'
        '    optional("local_settings.py"),\n'
        ")\n"
    )
    base = 'DEBUG = False\nINSTALLED_APPS = ["x"]\n'
    celery = 'CELERY_BROKER_URL = "redis://"\nCELERY_TIMEZONE = "UTC"\n'
    check(
        {
            "proj/celery.py": django_app(),
            "proj/settings/__init__.py": init,
            "proj/settings/components/base.py": base,
            "proj/settings/components/celery.py": celery,
        },
        {"proj/settings/components/celery.py": celery + THREE},
    )


def test_django_split_settings_include_glob_already_present() -> None:
    init = 'from split_settings.tools import include\ninclude("components/*.py")\n'
    check_noop(
        {
            "proj/celery.py": django_app(),
            "proj/settings/__init__.py": init,
            "proj/settings/components/a.py": "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True\n",
            "proj/settings/components/b.py": "CELERY_WORKER_HIJACK_ROOT_LOGGER = False\n",
            "proj/settings/components/c.py": "CELERY_WORKER_LOG_COLOR = False\n",
        }
    )


def test_third_party_star_import_inserts_and_says_so() -> None:
    settings = "from somepackage.settings import *\nCELERY_BROKER_URL = 'redis://'\n"
    plan = check(
        {"proj/celery.py": django_app(), "proj/settings.py": settings},
        {"proj/settings.py": settings + THREE},
    )
    info = [n for n in plan.notes if n.kind is NoteKind.INFO]
    assert {n.rule for n in info} == {"CF201", "CF202", "CF203"}
    assert all(n.path == "proj/settings.py" and n.line == 1 for n in info)
    assert "may override" in messages(plan, NoteKind.INFO)


# Split settings as cookiecutter-django lays them out: manage.py names local, nothing names the
# others; base.py holds the main Celery block, local.py a small Celery section of its own.
MANAGE_LOCAL = (
    'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")\n'
)
CELERY_APP = (
    'from celery import Celery\napp = Celery("config")\n'
    'app.config_from_object("django.conf:settings", namespace="CELERY")\n'
)
BASE = (
    'SECRET_KEY = "x"\n'
    "\n"
    "# Celery\n"
    'CELERY_BROKER_URL = "redis://redis:6379/0"\n'
    'CELERY_TASK_SERIALIZER = "json"\n'
    "\n"
    'LANGUAGE_CODE = "en"\n'
)
BASE_FIXED = BASE.replace('"json"\n', '"json"\n' + THREE)
LOCAL = (
    "from .base import *  # noqa\n\nDEBUG = True\n\n# Celery\nCELERY_TASK_EAGER_PROPAGATES = True\n"
)


def cookiecutter(**more: str) -> dict[str, str]:
    """manage.py naming config.settings.local, base.py and local.py, and `more` settings modules."""
    files = {
        "manage.py": MANAGE_LOCAL,
        "config/__init__.py": "",
        "config/celery_app.py": CELERY_APP,
        "config/settings/__init__.py": "",
        "config/settings/base.py": BASE,
        "config/settings/local.py": LOCAL,
    }
    files.update({f"config/settings/{name}.py": text for name, text in more.items()})
    return files


def test_base_and_local_only_the_base_gets_it() -> None:
    check(cookiecutter(), {"config/settings/base.py": BASE_FIXED})


def test_environments_named_nowhere_are_served_by_the_base() -> None:
    production = 'from .base import *  # noqa\n\nCELERY_BROKER_URL = "redis://prod"\n'
    check(
        cookiecutter(production=production, test="from .base import *\nDEBUG = False\n"),
        {"config/settings/base.py": BASE_FIXED},
    )


def test_an_environment_named_nowhere_keeps_a_value_it_sets_before_the_base() -> None:
    test = "CELERY_WORKER_LOG_COLOR = True\nfrom .base import *  # noqa\n"
    plan = check(
        cookiecutter(test=test),
        {
            "config/settings/base.py": BASE.replace(
                '"json"\n', '"json"\n' + THREE.replace("CELERY_WORKER_LOG_COLOR = False\n", "")
            ),
            "config/settings/local.py": LOCAL + "CELERY_WORKER_LOG_COLOR = False\n",
        },
    )
    assert plan.notes == ()


def test_an_environment_named_nowhere_with_retry_false_says_false_after_the_base() -> None:
    test = "from .base import *  # noqa\nCELERY_BROKER_CONNECTION_RETRY = False\n"
    check(
        cookiecutter(test=test, ci="from .test import *  # noqa\n"),
        {
            "config/settings/base.py": BASE_FIXED,
            # ci.py imports test.py: test's line serves it too.
            "config/settings/test.py": test + "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = False\n",
        },
    )


def test_a_module_importing_it_with_its_own_retry_keeps_its_value() -> None:
    test = "from .base import *\nCELERY_BROKER_CONNECTION_RETRY = False\n"
    ci = "from .test import *\nCELERY_BROKER_CONNECTION_RETRY = True\n"
    check(
        cookiecutter(test=test, ci=ci),
        {
            "config/settings/base.py": BASE.replace(
                '"json"\n', '"json"\nCELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True\n'
            ),
            "config/settings/test.py": test + "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = False\n",
            "config/settings/ci.py": ci + "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True\n",
        },
        wanted=(RETRY,),
    )


def test_retry_set_before_the_base_import_keeps_its_own_line() -> None:
    # test.py's own line can only go before `from .base import *`: the base would override it,
    # so the base says nothing and each environment gets its own value.
    test = "CELERY_BROKER_CONNECTION_RETRY = False\nfrom .base import *  # noqa\n"
    check(
        cookiecutter(test=test),
        {
            "config/settings/local.py": LOCAL
            + "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True\n",
            "config/settings/test.py": test.replace(
                "False\n", "False\nCELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = False\n", 1
            ),
        },
        wanted=(RETRY,),
    )


def test_modules_that_do_not_parse_are_no_environments() -> None:
    check(
        cookiecutter(
            broken="from .base import *\nDEBUG = (\n",
            imports_broken="from .base import *\nfrom .broken import *\n",
            template="from .base import *\n{% if x %}DEBUG = True{% endif %}\n",
        ),
        {"config/settings/base.py": BASE_FIXED},
    )


def test_an_override_star_imported_at_the_end_is_not_a_base() -> None:
    # local_settings.py overrides the module importing it: the Celery block of settings.py is
    # the place, not the override file.
    settings = 'CELERY_BROKER_URL = "redis://"\nDEBUG = False\nfrom .local_settings import *\n'
    overrides = "CELERY_TASK_ALWAYS_EAGER = True\n"
    check(
        {
            "proj/celery.py": django_app(),
            "proj/settings.py": settings,
            "proj/local_settings.py": overrides,
        },
        {"proj/settings.py": settings.replace('"redis://"\n', '"redis://"\n' + THREE)},
    )


def test_a_base_fragment_holding_the_block_gets_it() -> None:
    settings = "from .celery_settings import *\nCELERY_TASK_ALWAYS_EAGER = DEBUG = False\n"
    fragment = 'CELERY_BROKER_URL = "redis://"\n'
    check(
        {
            "proj/celery.py": django_app(),
            "proj/settings.py": settings,
            "proj/celery_settings.py": fragment,
        },
        {"proj/celery_settings.py": fragment + THREE},
    )


def test_a_star_imported_constants_module_makes_no_environment() -> None:
    settings = 'from .constants import *\nCELERY_BROKER_URL = "redis://"\n'
    files = {
        "proj/celery.py": django_app(),
        "proj/settings.py": settings,
        "proj/constants.py": "TIMEOUT = 5\n",
        "proj/views.py": "from .constants import *\n",
    }
    plan = check(files, {"proj/settings.py": settings + THREE})
    assert plan.notes == ()


def test_a_base_with_a_literal_all_does_not_export_a_new_line() -> None:
    base = '__all__ = ["CELERY_BROKER_URL"]\nCELERY_BROKER_URL = "redis://"\n'
    local = "from .base import *\nDEBUG = True\n"
    check(
        split(base, local, local),
        {
            "proj/settings/local.py": local + THREE,
            "proj/settings/production.py": local + THREE,
        },
        hints=PRODUCTION_TOO,
    )


def test_a_conditional_celery_block_gets_the_lines_at_the_end() -> None:
    # Every Celery setting is inside the `if`: a line there would be missing when it is false,
    # a line at the end (outside it) is set on every run and overrides nothing.
    settings = (
        "USE_CELERY = True\n"
        "if USE_CELERY:\n"
        '    CELERY_BROKER_URL = "redis://"\n'
        "\n"
        'LANGUAGE_CODE = "en"\n'
    )
    check(
        {"proj/celery.py": django_app(), "proj/settings.py": settings},
        {"proj/settings.py": settings + THREE},
    )


# -- other namespaces and sources ---------------------------------------------------------------


def test_custom_namespace() -> None:
    settings = 'TASKS_BROKER_URL = "redis://"\nCELERY_UNRELATED = 1\n'
    after = (
        'TASKS_BROKER_URL = "redis://"\n'
        "TASKS_BROKER_CONNECTION_RETRY_ON_STARTUP = True\n"
        "TASKS_WORKER_HIJACK_ROOT_LOGGER = False\n"
        "TASKS_WORKER_LOG_COLOR = False\n"
        "CELERY_UNRELATED = 1\n"
    )
    check(
        {"proj/celery.py": django_app(namespace="TASKS"), "proj/settings.py": settings},
        {"proj/settings.py": after},
    )


def test_no_namespace_uses_old_names() -> None:
    settings = 'BROKER_URL = "redis://"\nCELERY_RESULT_BACKEND = "redis://"\nDEBUG = True\n'
    after = (
        'BROKER_URL = "redis://"\nCELERY_RESULT_BACKEND = "redis://"\n'
        "BROKER_CONNECTION_RETRY_ON_STARTUP = True\n"
        "CELERYD_HIJACK_ROOT_LOGGER = False\n"
        "CELERYD_LOG_COLOR = False\n"
        "DEBUG = True\n"
    )
    check(
        {"proj/celery.py": NO_NAMESPACE_APP, "proj/settings.py": settings},
        {"proj/settings.py": after},
    )


def test_no_namespace_misnamed_setting_is_reported_not_duplicated() -> None:
    settings = "CELERY_WORKER_LOG_COLOR = False\n"
    _, plan = run(
        {"proj/celery.py": NO_NAMESPACE_APP, "proj/settings.py": settings}, wanted=(COLOR,)
    )
    assert plan.edits == ()
    (note,) = plan.notes
    assert note.kind is NoteKind.ADVICE and note.line == 1
    assert "`CELERYD_LOG_COLOR`" in note.message and "not `CELERY_WORKER_LOG_COLOR`" in note.message


def test_lower_case_namespace_on_django_is_skipped() -> None:
    _, plan = run({"proj/celery.py": django_app(namespace="celery"), "proj/settings.py": "X = 1\n"})
    assert plan.edits == ()
    assert "not upper-case" in messages(plan, NoteKind.SKIP)


PLAIN_APP = (
    'from celery import Celery\napp = Celery("proj")\napp.config_from_object("proj.celeryconfig")\n'
)


def test_plain_config_module_takes_lower_case_names() -> None:
    config = (
        'import os\nbroker_url = os.environ["BROKER"]\ntask_serializer = "json"\n\nHELPER = 1\n'
    )
    after = config.replace(
        '"json"\n',
        '"json"\n'
        "broker_connection_retry_on_startup = True\n"
        "worker_hijack_root_logger = False\n"
        "worker_log_color = False\n",
    )
    check(
        {"proj/celery.py": PLAIN_APP, "proj/celeryconfig.py": config},
        {"proj/celeryconfig.py": after},
    )


def test_plain_config_module_with_old_names_keeps_old_names() -> None:
    config = 'BROKER_URL = "redis://"\nCELERY_RESULT_BACKEND = "redis://"\n'
    after = config + (
        "BROKER_CONNECTION_RETRY_ON_STARTUP = True\n"
        "CELERYD_HIJACK_ROOT_LOGGER = False\n"
        "CELERYD_LOG_COLOR = False\n"
    )
    check(
        {"proj/celery.py": PLAIN_APP, "proj/celeryconfig.py": config},
        {"proj/celeryconfig.py": after},
    )


def test_plain_config_module_given_as_imported_module() -> None:
    app = "from celery import Celery\nfrom . import celeryconfig\napp = Celery()\napp.config_from_object(celeryconfig)\n"
    config = "broker_url = 'redis://'\n"
    after = (
        config
        + "broker_connection_retry_on_startup = True\nworker_hijack_root_logger = False\nworker_log_color = False\n"
    )
    check({"proj/celery.py": app, "proj/celeryconfig.py": config}, {"proj/celeryconfig.py": after})


CONF_UPDATES = [
    (
        "one-a-line-trailing-comma",
        "app.conf.update(\n    broker_url='redis://',\n    task_serializer='json',\n)\n",
        "app.conf.update(\n    broker_url='redis://',\n    task_serializer='json',\n"
        "    broker_connection_retry_on_startup=True,\n"
        "    worker_hijack_root_logger=False,\n"
        "    worker_log_color=False,\n)\n",
    ),
    (
        "one-line",
        "app.conf.update(broker_url='redis://')\n",
        "app.conf.update(broker_url='redis://', broker_connection_retry_on_startup=True,"
        " worker_hijack_root_logger=False, worker_log_color=False)\n",
    ),
    (
        "no-trailing-comma",
        "app.conf.update(\n    broker_url='redis://'\n)\n",
        "app.conf.update(\n    broker_url='redis://',\n    broker_connection_retry_on_startup=True,\n"
        "    worker_hijack_root_logger=False,\n    worker_log_color=False\n)\n",
    ),
    (
        "no-trailing-comma-comment",
        "app.conf.update(\n    broker_url='redis://'  # the broker\n)\n",
        "app.conf.update(\n    broker_url='redis://',  # the broker\n"
        "    broker_connection_retry_on_startup=True,\n"
        "    worker_hijack_root_logger=False,\n    worker_log_color=False\n)\n",
    ),
    (
        "empty",
        "app.conf.update()\n",
        "app.conf.update(broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,"
        " worker_log_color=False)\n",
    ),
    (
        "dict",
        "app.conf.update({\n    'broker_url': 'redis://',\n})\n",
        "app.conf.update({\n    'broker_url': 'redis://',\n    'broker_connection_retry_on_startup': True,\n"
        "    'worker_hijack_root_logger': False,\n    'worker_log_color': False,\n})\n",
    ),
    (
        "retry-false-mirrored",
        "app.conf.update(broker_connection_retry=False)\n",
        "app.conf.update(broker_connection_retry=False, broker_connection_retry_on_startup=False,"
        " worker_hijack_root_logger=False, worker_log_color=False)\n",
    ),
    (
        "attributes",
        "app.conf.broker_url = 'redis://'\napp.conf.task_serializer = 'json'\nX = 1\n",
        "app.conf.broker_url = 'redis://'\napp.conf.task_serializer = 'json'\n"
        "app.conf.broker_connection_retry_on_startup = True\n"
        "app.conf.worker_hijack_root_logger = False\n"
        "app.conf.worker_log_color = False\nX = 1\n",
    ),
]


@pytest.mark.parametrize(
    ("before", "after"), [c[1:] for c in CONF_UPDATES], ids=[c[0] for c in CONF_UPDATES]
)
def test_conf_update(before: str, after: str) -> None:
    head = 'from celery import Celery\napp = Celery("proj")\n'
    check({"proj/celery.py": head + before}, {"proj/celery.py": head + after})


def test_conf_update_crlf() -> None:
    head = 'from celery import Celery\r\napp = Celery("proj")\r\n'
    before = head + "app.conf.update(\r\n    broker_url='redis://',\r\n)\r\n"
    after = head + (
        "app.conf.update(\r\n    broker_url='redis://',\r\n"
        "    broker_connection_retry_on_startup=True,\r\n"
        "    worker_hijack_root_logger=False,\r\n"
        "    worker_log_color=False,\r\n)\r\n"
    )
    check({"proj/celery.py": before}, {"proj/celery.py": after})


def test_conf_update_also_counts_as_present_for_django_settings() -> None:
    app = (
        django_app() + "app.conf.update(worker_log_color=False, CELERYD_HIJACK_ROOT_LOGGER=False)\n"
    )
    settings = 'CELERY_BROKER_URL = "redis://"\n'
    check(
        {"proj/celery.py": app, "proj/settings.py": settings},
        {"proj/settings.py": settings + "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True\n"},
    )


# -- CF201 mirrors broker_connection_retry ------------------------------------------------------


def test_retry_false_stays_false() -> None:
    settings = "CELERY_BROKER_CONNECTION_RETRY = False\n"
    check(
        {"proj/celery.py": django_app(), "proj/settings.py": settings},
        {"proj/settings.py": settings + "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = False\n"},
        wanted=(RETRY,),
    )


def test_retry_given_by_old_name_is_mirrored() -> None:
    settings = "BROKER_CONNECTION_RETRY = False\nCELERY_BROKER_URL = 'redis://'\n"
    check(
        {"proj/celery.py": django_app(), "proj/settings.py": settings},
        {"proj/settings.py": settings + "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = False\n"},
        wanted=(RETRY,),
    )


def test_retry_expression_is_referenced_by_name() -> None:
    settings = (
        'CELERY_BROKER_CONNECTION_RETRY = env.bool("CELERY_RETRY", default=True)\n'
        "CELERY_BROKER_URL = env('BROKER')\n"
    )
    check(
        {"proj/celery.py": django_app(), "proj/settings.py": settings},
        {
            "proj/settings.py": settings
            + "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = CELERY_BROKER_CONNECTION_RETRY\n"
        },
        wanted=(RETRY,),
    )


def test_retry_overridden_in_one_environment() -> None:
    base = 'CELERY_BROKER_URL = "redis://"\n'
    local = "from .base import *\nCELERY_BROKER_CONNECTION_RETRY = False\n"
    production = "from .base import *\nDEBUG = False\n"
    check(
        split(base, local, production),
        {
            # base's True reaches production; local, where retry is False, says False after it.
            "proj/settings/base.py": base + THREE,
            "proj/settings/local.py": local + "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = False\n",
        },
        hints=PRODUCTION_TOO,
    )


def test_retry_set_only_conditionally_is_advice() -> None:
    settings = "CELERY_BROKER_URL = 'r'\nif DEBUG:\n    CELERY_BROKER_CONNECTION_RETRY = False\n"
    _, plan = run({"proj/celery.py": django_app(), "proj/settings.py": settings}, wanted=(RETRY,))
    assert plan.edits == ()
    assert "only conditionally" in messages(plan, NoteKind.ADVICE)


def test_retry_reassigned_conditionally_is_referenced() -> None:
    settings = (
        "CELERY_BROKER_CONNECTION_RETRY = True\n"
        "if DEBUG:\n    CELERY_BROKER_CONNECTION_RETRY = False\n"
        "CELERY_BROKER_URL = 'r'\n"
    )
    check(
        {"proj/celery.py": django_app(), "proj/settings.py": settings},
        {
            "proj/settings.py": settings
            + "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = CELERY_BROKER_CONNECTION_RETRY\n"
        },
        wanted=(RETRY,),
    )


# -- already present: never overwritten ---------------------------------------------------------

PRESENT = [
    ("new-name", "CELERY_WORKER_LOG_COLOR = True\n"),
    ("old-name", "CELERYD_LOG_COLOR = True\n"),
    ("no-space", "CELERY_WORKER_LOG_COLOR= True\n"),
    ("annotated", "CELERY_WORKER_LOG_COLOR: bool = True\n"),
    ("inside-if", "if DEBUG:\n    CELERY_WORKER_LOG_COLOR = True\n"),
    ("inside-try", "try:\n    CELERY_WORKER_LOG_COLOR = bool(X)\nexcept NameError:\n    pass\n"),
    ("env", 'CELERY_WORKER_LOG_COLOR = env.bool("COLOR", default=False)\n'),
    ("os-environ", 'CELERY_WORKER_LOG_COLOR = os.environ.get("COLOR") == "1"\n'),
    ("multi-line", "CELERY_WORKER_LOG_COLOR = env.bool(\n    'COLOR',\n    default=False,\n)\n"),
    ("globals", 'globals()["CELERY_WORKER_LOG_COLOR"] = False\n'),
    ("tuple", "CELERY_WORKER_LOG_COLOR, X = False, 1\n"),
]


@pytest.mark.parametrize("settings", [c[1] for c in PRESENT], ids=[c[0] for c in PRESENT])
def test_present_in_django_settings(settings: str) -> None:
    check_noop({"proj/celery.py": django_app(), "proj/settings.py": settings}, wanted=(COLOR,))


def test_present_in_base_of_split_settings() -> None:
    check_noop(
        split("CELERY_WORKER_LOG_COLOR = True\n", "from .base import *\n"),
        hints=PRODUCTION_TOO,
        wanted=(COLOR,),
    )


def test_present_in_plain_config_module_lower_case() -> None:
    check_noop(
        {"proj/celery.py": PLAIN_APP, "proj/celeryconfig.py": "worker_log_color = True\n"},
        wanted=(COLOR,),
    )


def test_present_in_plain_config_module_old_name() -> None:
    check_noop(
        {"proj/celery.py": PLAIN_APP, "proj/celeryconfig.py": "CELERYD_LOG_COLOR = True\n"},
        wanted=(COLOR,),
    )


def test_present_in_conf_update() -> None:
    app = "from celery import Celery\napp = Celery()\napp.conf.update(worker_log_color=True)\n"
    check_noop({"proj/celery.py": app}, wanted=(COLOR,))


def test_logging_dict_key_is_not_the_setting() -> None:
    settings = (
        "CELERY_BROKER_URL = 'redis://'\n"
        "LOGGING = {\n"
        '    "version": 1,\n'
        '    "worker_hijack_root_logger": False,\n'
        "}\n"
    )
    after = settings.replace(
        "'redis://'\n", "'redis://'\nCELERY_WORKER_HIJACK_ROOT_LOGGER = False\n"
    )
    check(
        {"proj/celery.py": django_app(), "proj/settings.py": settings},
        {"proj/settings.py": after},
        wanted=(HIJACK,),
    )


def test_multi_line_retry_on_startup_counts_as_present() -> None:
    settings = (
        "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = env.bool(\n"
        '    "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP",\n'
        "    default=True,\n"
        ")\n"
    )
    check_noop({"proj/celery.py": django_app(), "proj/settings.py": settings}, wanted=(RETRY,))


# -- what is left alone -------------------------------------------------------------------------


def test_jinja_templated_settings_are_skipped() -> None:
    settings = (
        "CELERY_BROKER_URL = 'redis://'\n"
        "{%- if cookiecutter.use_celery == 'y' %}\n"
        "CELERY_TASK_SERIALIZER = 'json'\n"
        "{%- endif %}\n"
    )
    _, plan = run(
        {"config/celery_app.py": django_app("config.settings"), "config/settings.py": settings}
    )
    assert plan.edits == ()
    assert "template" in messages(plan, NoteKind.SKIP)


def test_syntax_error_in_settings_raises() -> None:
    with pytest.raises(SettingsSyntaxError) as raised:
        run({"proj/celery.py": django_app(), "proj/settings.py": "X = 1\nCELERY_X = (\n"})
    assert raised.value.path == "proj/settings.py"


def test_syntax_error_in_app_module_raises() -> None:
    with pytest.raises(SettingsSyntaxError) as raised:
        run({"proj/celery.py": "app = Celery('x'\n"})
    assert raised.value.path == "proj/celery.py"


def test_syntax_error_in_unrelated_file_is_ignored() -> None:
    settings = 'CELERY_BROKER_URL = "redis://"\n'
    check(
        {
            "proj/celery.py": django_app(),
            "proj/settings.py": settings,
            "scripts/old.py": "print 'python 2'\n",
            "docs/example.py": "def make(:\n    return Celery()\n",
        },
        {"proj/settings.py": settings + THREE},
    )


SKIPPED = [
    ("envvar", "app.config_from_envvar('CELERY_CONFIG')\n", "config_from_envvar"),
    ("class", "class Config:\n    broker_url = 'r'\napp.config_from_object(Config)\n", "class"),
    ("object", "app.config_from_object('proj.config:Config')\n", "object"),
    ("computed", "app.config_from_object(get_config())\n", "get_config()"),
    ("missing-module", "app.config_from_object('proj.nowhere')\n", "not a file"),
    ("nothing", "", "no configuration source"),
]


@pytest.mark.parametrize(("tail", "reason"), [c[1:] for c in SKIPPED], ids=[c[0] for c in SKIPPED])
def test_no_place_is_a_skip_note(tail: str, reason: str) -> None:
    app = 'from celery import Celery\napp = Celery("proj")\n' + tail
    _, plan = run({"proj/celery.py": app})
    assert plan.edits == ()
    assert {n.rule for n in plan.notes} == {"CF201", "CF202", "CF203"}
    assert all(n.kind is NoteKind.SKIP for n in plan.notes)
    assert reason in messages(plan)


def test_django_settings_module_not_found_is_a_skip_note() -> None:
    _, plan = run({"proj/celery.py": django_app("proj.missing")})
    assert plan.edits == ()
    assert "`proj.missing`" in messages(plan, NoteKind.SKIP)


def test_two_apps_reading_the_same_settings_insert_once() -> None:
    settings = 'CELERY_BROKER_URL = "redis://"\n'
    check(
        {
            "proj/celery.py": django_app(),
            "proj/other_celery.py": django_app()
            .replace("app =", "other =")
            .replace("app.", "other."),
            "proj/settings.py": settings,
        },
        {"proj/settings.py": settings + THREE},
    )


def test_no_wanted_settings_no_work() -> None:
    assert plan_settings({"proj/celery.py": django_app()}, (), SettingsHints()) == SettingsPlan(
        (), ()
    )


def test_only_files_that_can_matter_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    import ast

    parsed: list[str] = []
    real_parse = ast.parse

    def counting_parse(
        source: str, filename: str = "<unknown>", *args: object, **kwargs: object
    ) -> ast.AST:
        parsed.append(filename)  # ast.parse is global: literal_eval calls it too ("<unknown>")
        return real_parse(source, filename, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("celeryfix.pysettings.sources.ast.parse", counting_parse)
    files = {f"pkg/mod{i}.py": "def f(:\n" for i in range(200)}  # invalid, but irrelevant
    files.update({"proj/celery.py": django_app(), "proj/settings.py": "X = 1\n"})
    changed, _ = run(files)
    assert set(changed) == {"proj/settings.py"}
    assert sorted(set(parsed) - {"<unknown>"}) == ["proj/celery.py", "proj/settings.py"]


def test_demo_repository_gets_three_lines_in_its_celery_block() -> None:
    from pathlib import Path

    root = Path(__file__).parents[2] / "fixtures" / "demo-crm"
    files = {p.relative_to(root).as_posix(): p.read_text("utf-8") for p in root.rglob("*.py")}
    hints = SettingsHints(("crm",), ("crm.settings",), ("backend",))
    changed, plan = run(files, hints)
    settings = files["backend/crm/settings.py"]
    assert settings.endswith('        "schedule": crontab(hour=3, minute=30),\n    },\n}\n')
    assert changed == {"backend/crm/settings.py": settings + THREE}
    assert plan.notes == ()


def test_a_module_left_to_the_user_is_not_reached_through_a_shared_base() -> None:
    base = 'CELERY_BROKER_URL = "redis://"\n'
    local = "from .base import *\nWORKER_LOG_COLOR = True  # ignored by Celery: advice\n"
    production = "from .base import *\n"
    changed, plan = run(split(base, local, production), hints=PRODUCTION_TOO, wanted=(COLOR,))
    assert changed == {
        "proj/settings/production.py": production + "CELERY_WORKER_LOG_COLOR = False\n"
    }
    (note,) = plan.notes
    assert (note.path, note.line, note.kind) == ("proj/settings/local.py", 2, NoteKind.ADVICE)


def test_lines_of_one_spot_come_in_rule_order() -> None:
    settings = "CELERY_BROKER_URL = 'r'"
    _, plan = run({"proj/celery.py": django_app(), "proj/settings.py": settings})
    assert [e.rule for e in plan.edits] == ["CF201", "CF202", "CF203"]
    assert {e.start for e in plan.edits} == {len(settings)}


def test_a_conditionally_imported_fragment_is_not_a_place() -> None:
    settings = "DEBUG = True\nif DEBUG:\n    from .celery_dev import *\n"
    fragment = 'CELERY_BROKER_URL = "redis://"\n'
    check(
        {
            "proj/celery.py": django_app(),
            "proj/settings.py": settings,
            "proj/celery_dev.py": fragment,
        },
        {"proj/settings.py": settings + "CELERY_WORKER_LOG_COLOR = False\n"},
        wanted=(COLOR,),
    )
