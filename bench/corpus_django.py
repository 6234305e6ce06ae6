"""Python sources of a synthetic Django project: apps, settings, the Celery app, manage.py."""

from __future__ import annotations

import random

# What celeryfix adds (CF201-CF203): a "fixed" repository has them already.
WANTED = (
    ("CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP", "True"),
    ("CELERY_WORKER_HIJACK_ROOT_LOGGER", "False"),
    ("CELERY_WORKER_LOG_COLOR", "False"),
)

FIELDS = (
    ("name", 'models.CharField(max_length={n}, verbose_name=_("{label}"))'),
    ("title", 'models.CharField(max_length={n}, blank=True, default="")'),
    ("code", "models.SlugField(max_length={n}, unique=True)"),
    ("email", "models.EmailField(blank=True)"),
    ("phone", 'models.CharField(max_length=32, blank=True, help_text=_("E.164"))'),
    ("amount", "models.DecimalField(max_digits=12, decimal_places=2, default=0)"),
    ("quantity", "models.PositiveIntegerField(default=0)"),
    ("is_active", "models.BooleanField(default=True)"),
    ("created_at", "models.DateTimeField(auto_now_add=True)"),
    ("updated_at", "models.DateTimeField(auto_now=True)"),
    ("notes", "models.TextField(blank=True)"),
    ("due_date", "models.DateField(null=True, blank=True)"),
    ("status", "models.CharField(max_length=16, choices=STATUS_CHOICES, default=STATUS_NEW)"),
    ("external_id", "models.UUIDField(default=uuid.uuid4, editable=False)"),
    ("payload", "models.JSONField(default=dict, blank=True)"),
)


def class_name(app: str, index: int) -> str:
    """A model class name of `app` (Order, OrderItem, OrderEntry, ...)."""
    base = app[:-1] if app.endswith("s") else app
    suffixes = ("", "Item", "Entry", "Record", "Line", "Log", "Rule", "Batch")
    return base.title().replace("_", "") + suffixes[index % len(suffixes)]


def models(rng: random.Random, app: str, classes: list[str]) -> str:
    """models.py: models with a few fields each, Meta, __str__, and sometimes a save()."""
    out = [
        f'"""Models of the {app} app."""',
        "",
        "import uuid",
        "from decimal import Decimal",
        "",
        "from django.conf import settings",
        "from django.db import models",
        "from django.urls import reverse",
        "from django.utils.translation import gettext_lazy as _",
        "",
        'STATUS_NEW, STATUS_DONE, STATUS_FAILED = "new", "done", "failed"',
        "STATUS_CHOICES = [",
        '    (STATUS_NEW, _("New")),',
        '    (STATUS_DONE, _("Done")),',
        '    (STATUS_FAILED, _("Failed")),',
        "]",
        "",
    ]
    for cls in classes:
        fields = rng.sample(FIELDS, rng.randint(4, 9))
        out += [
            "",
            f"class {cls}(models.Model):",
            f'    """A {cls.lower()} of the {app} app."""',
            "",
        ]
        for name, template in fields:
            out.append(f"    {name} = " + template.format(n=rng.choice((64, 128, 255)), label=name))
        out += [
            "    owner = models.ForeignKey(",
            "        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True",
            "    )",
            "",
            "    class Meta:",
            '        ordering = ["-id"]',
            f'        verbose_name = _("{cls.lower()}")',
            "",
            "    def __str__(self) -> str:",
            f'        return f"{cls} #{{self.pk}}"',
            "",
            "    def get_absolute_url(self) -> str:",
            f'        return reverse("{app}:{cls.lower()}-detail", args=[self.pk])',
        ]
        if rng.random() < 0.5:
            out += [
                "",
                "    def save(self, *args, **kwargs):",
                "        # Normalise before every save: imports and the admin both come through here.",
                '        if getattr(self, "phone", None):',
                '            self.phone = "".join(ch for ch in self.phone if ch.isdigit() or ch == "+")',
                '        if getattr(self, "amount", None) is not None:',
                '            self.amount = Decimal(self.amount).quantize(Decimal("0.01"))',
                "        super().save(*args, **kwargs)",
            ]
    return "\n".join(out) + "\n"


def views(app: str, classes: list[str]) -> str:
    """views.py: list and detail views and a DRF viewset per model."""
    models = ", ".join(classes)
    out = [
        "from django.contrib.auth.mixins import LoginRequiredMixin",
        "from django.http import JsonResponse",
        "from django.views.generic import DetailView, ListView",
        "from rest_framework import permissions, viewsets",
        "",
        f"from .models import {models}",
        f"from .serializers import {', '.join(c + 'Serializer' for c in classes)}",
        "",
    ]
    for cls in classes:
        out += [
            "",
            f"class {cls}ListView(LoginRequiredMixin, ListView):",
            f"    model = {cls}",
            "    paginate_by = 50",
            f'    template_name = "{app}/{cls.lower()}_list.html"',
            "",
            "    def get_queryset(self):",
            "        queryset = super().get_queryset()",
            '        query = self.request.GET.get("q")',
            "        if query:",
            "            queryset = queryset.filter(pk__icontains=query)",
            "        return queryset.select_related()",
            "",
            "",
            f"class {cls}DetailView(LoginRequiredMixin, DetailView):",
            f"    model = {cls}",
            "",
            "",
            f"class {cls}ViewSet(viewsets.ModelViewSet):",
            f"    queryset = {cls}.objects.all()",
            f"    serializer_class = {cls}Serializer",
            "    permission_classes = [permissions.IsAuthenticated]",
        ]
    out += [
        "",
        "",
        "def health(request):",
        f'    return JsonResponse({{"status": "ok", "app": "{app}"}})',
    ]
    return "\n".join(out) + "\n"


def serializers(classes: list[str]) -> str:
    """serializers.py: one ModelSerializer per model."""
    out = [
        "from rest_framework import serializers",
        "",
        f"from .models import {', '.join(classes)}",
    ]
    for cls in classes:
        out += [
            "",
            "",
            f"class {cls}Serializer(serializers.ModelSerializer):",
            "    class Meta:",
            f"        model = {cls}",
            '        fields = "__all__"',
            '        read_only_fields = ["id"]',
        ]
    return "\n".join(out) + "\n"


def admin(classes: list[str]) -> str:
    """admin.py: one ModelAdmin per model."""
    out = ["from django.contrib import admin", "", f"from .models import {', '.join(classes)}"]
    for cls in classes:
        out += [
            "",
            "",
            f"@admin.register({cls})",
            f"class {cls}Admin(admin.ModelAdmin):",
            '    list_display = ["id", "__str__"]',
            '    search_fields = ["id"]',
            "    list_per_page = 100",
        ]
    return "\n".join(out) + "\n"


def tasks(rng: random.Random, app: str, classes: list[str]) -> str:
    """tasks.py: shared tasks (the module mentions celery, as real ones do)."""
    # Real task modules mention celery: the cheap text check cannot skip them on "celery" alone.
    out = [
        "import logging",
        "",
        "from celery import shared_task",
        "from django.db import transaction",
        "",
        f"from .models import {classes[0]}",
        "",
        "logger = logging.getLogger(__name__)",
    ]
    for index in range(rng.randint(1, 4)):
        out += [
            "",
            "",
            "@shared_task(bind=True, max_retries=3, default_retry_delay=60)",
            f"def process_{app}_{index}(self, pk):",
            "    try:",
            "        with transaction.atomic():",
            f"            item = {classes[0]}.objects.select_for_update().get(pk=pk)",
            "            item.save()",
            f"    except {classes[0]}.DoesNotExist:",
            '        logger.warning("%s vanished", pk)',
            "    except Exception as exc:  # noqa: BLE001",
            "        raise self.retry(exc=exc)",
        ]
    return "\n".join(out) + "\n"


def test_module(rng: random.Random, app: str, classes: list[str], kind: str) -> str:
    """tests/test_<kind>.py: pytest-django tests."""
    out = [
        "import pytest",
        "from django.urls import reverse",
        "",
        f"from {app}.models import {', '.join(classes)}",
        "",
        "pytestmark = pytest.mark.django_db",
    ]
    for cls in classes:
        for case in range(rng.randint(2, 5)):
            out += [
                "",
                "",
                f"def test_{cls.lower()}_{kind}_{case}(client, admin_user):",
                f"    item = {cls}.objects.create()",
                "    client.force_login(admin_user)",
                f'    response = client.get(reverse("{app}:{cls.lower()}-detail", args=[item.pk]))',
                "    assert response.status_code == 200",
                f"    assert str(item).startswith({cls!r})",
            ]
    return "\n".join(out) + "\n"


def migration(rng: random.Random, app: str, number: int, classes: list[str]) -> str:
    """migrations/000N_auto.py: CreateModel operations, as makemigrations writes them."""
    depends = (
        '        ("contenttypes", "0002_remove_content_type_name"),'
        if number == 1
        else f'        ("{app}", "{number - 1:04d}_auto"),'
    )
    out = [
        "# Generated by Django 5.0.6",
        "",
        "import django.db.models.deletion",
        "from django.conf import settings",
        "from django.db import migrations, models",
        "",
        "",
        "class Migration(migrations.Migration):",
        f"    initial = {number == 1}",
        "",
        "    dependencies = [",
        depends,
        "        migrations.swappable_dependency(settings.AUTH_USER_MODEL),",
        "    ]",
        "",
        "    operations = [",
    ]
    for cls in rng.sample(classes, min(len(classes), rng.randint(1, 3))):
        out += [
            "        migrations.CreateModel(",
            f'            name="{cls}",',
            "            fields=[",
            '                ("id", models.BigAutoField(auto_created=True, primary_key=True)),',
        ]
        for name, _template in rng.sample(FIELDS[:12], rng.randint(3, 7)):
            out.append(f'                ("{name}", models.CharField(max_length=255)),')
        out += [
            "                (",
            '                    "owner",',
            "                    models.ForeignKey(",
            "                        null=True,",
            "                        on_delete=django.db.models.deletion.SET_NULL,",
            "                        to=settings.AUTH_USER_MODEL,",
            "                    ),",
            "                ),",
            "            ],",
            '            options={"ordering": ["-id"]},',
            "        ),",
        ]
    out.append("    ]")
    return "\n".join(out) + "\n"


def settings_body(rng: random.Random, project: str, apps: list[str], split: bool) -> list[str]:
    """A settings module's lines up to its Celery block (Django's startproject, grown)."""
    root_depth = "parent.parent.parent" if split else "parent.parent"
    out = [
        f'"""Django settings for the {project} project."""',
        "",
        "import os",
        "from pathlib import Path",
        "",
        "from celery.schedules import crontab",
        "",
        f"BASE_DIR = Path(__file__).resolve().{root_depth}",
        "",
        'SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "django-insecure-change-me")',
        'DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"',
        'ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")',
        "",
        "# Application definition",
        "",
        "INSTALLED_APPS = [",
        '    "django.contrib.admin",',
        '    "django.contrib.auth",',
        '    "django.contrib.contenttypes",',
        '    "django.contrib.sessions",',
        '    "django.contrib.messages",',
        '    "django.contrib.staticfiles",',
        '    "rest_framework",',
        '    "django_celery_beat",',
        *(f'    "{app}",' for app in apps),
        "]",
        "",
        "MIDDLEWARE = [",
        '    "django.middleware.security.SecurityMiddleware",',
        '    "django.contrib.sessions.middleware.SessionMiddleware",',
        '    "django.middleware.common.CommonMiddleware",',
        '    "django.middleware.csrf.CsrfViewMiddleware",',
        '    "django.contrib.auth.middleware.AuthenticationMiddleware",',
        '    "django.contrib.messages.middleware.MessageMiddleware",',
        '    "django.middleware.clickjacking.XFrameOptionsMiddleware",',
        "]",
        "",
        f'ROOT_URLCONF = "{"config" if split else project}.urls"',
        "",
        "TEMPLATES = [",
        "    {",
        '        "BACKEND": "django.template.backends.django.DjangoTemplates",',
        '        "DIRS": [BASE_DIR / "templates"],',
        '        "APP_DIRS": True,',
        '        "OPTIONS": {',
        '            "context_processors": [',
        '                "django.template.context_processors.debug",',
        '                "django.template.context_processors.request",',
        '                "django.contrib.auth.context_processors.auth",',
        '                "django.contrib.messages.context_processors.messages",',
        "            ],",
        "        },",
        "    },",
        "]",
        "",
        f'WSGI_APPLICATION = "{"config" if split else project}.wsgi.application"',
        "",
        "DATABASES = {",
        '    "default": {',
        '        "ENGINE": "django.db.backends.postgresql",',
        f'        "NAME": os.environ.get("POSTGRES_DB", "{project}"),',
        f'        "USER": os.environ.get("POSTGRES_USER", "{project}"),',
        '        "PASSWORD": os.environ.get("POSTGRES_PASSWORD", ""),',
        '        "HOST": os.environ.get("POSTGRES_HOST", "db"),',
        '        "PORT": os.environ.get("POSTGRES_PORT", "5432"),',
        '        "CONN_MAX_AGE": 60,',
        "    }",
        "}",
        'DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"',
        "",
        "AUTH_PASSWORD_VALIDATORS = [",
        *(
            f'    {{"NAME": "django.contrib.auth.password_validation.{name}"}},'
            for name in (
                "UserAttributeSimilarityValidator",
                "MinimumLengthValidator",
                "CommonPasswordValidator",
                "NumericPasswordValidator",
            )
        ),
        "]",
        "",
        'LANGUAGE_CODE = "en-us"',
        f'TIME_ZONE = "{rng.choice(("UTC", "Europe/Moscow", "Europe/Berlin", "America/New_York"))}"',
        "USE_I18N = True",
        "USE_TZ = True",
        "",
        'STATIC_URL = "static/"',
        'STATIC_ROOT = BASE_DIR / "staticfiles"',
        'MEDIA_URL = "media/"',
        'MEDIA_ROOT = BASE_DIR / "media"',
        "",
        "REST_FRAMEWORK = {",
        '    "DEFAULT_AUTHENTICATION_CLASSES": [',
        '        "rest_framework.authentication.SessionAuthentication",',
        "    ],",
        '    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",',
        '    "PAGE_SIZE": 50,',
        "}",
    ]
    if rng.random() < 0.6:
        out += [
            "",
            "LOGGING = {",
            '    "version": 1,',
            '    "disable_existing_loggers": False,',
            '    "formatters": {',
            '        "verbose": {"format": "%(levelname)s %(asctime)s %(name)s %(message)s"},',
            "    },",
            '    "handlers": {',
            '        "console": {"class": "logging.StreamHandler", "formatter": "verbose"},',
            "    },",
            '    "root": {"level": "INFO", "handlers": ["console"]},',
            '    "loggers": {',
            '        "django.db.backends": {"level": "WARNING", "propagate": True},',
            '        "celery": {"level": "INFO", "propagate": True},',
            "    },",
            "}",
        ]
    if rng.random() < 0.5:
        out += [
            "",
            'EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"',
            'EMAIL_HOST = os.environ.get("EMAIL_HOST", "smtp.example.com")',
            'EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))',
            "EMAIL_USE_TLS = True",
            'DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "noreply@example.com")',
            "",
            "CACHES = {",
            '    "default": {',
            '        "BACKEND": "django.core.cache.backends.redis.RedisCache",',
            '        "LOCATION": os.environ.get("REDIS_URL", "redis://redis:6379/1"),',
            "    }",
            "}",
        ]
    return out


def celery_block(rng: random.Random, apps: list[str], fixed: bool) -> list[str]:
    """The `# Celery` block; with `fixed`, the three settings are there already."""
    out = [
        "",
        "# Celery",
        "# ------------------------------------------------------------------------------",
        'CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://redis:6379/0")',
        "CELERY_RESULT_BACKEND = CELERY_BROKER_URL",
        'CELERY_ACCEPT_CONTENT = ["json"]',
        'CELERY_TASK_SERIALIZER = "json"',
        'CELERY_RESULT_SERIALIZER = "json"',
        "CELERY_TIMEZONE = TIME_ZONE",
        "CELERY_TASK_TIME_LIMIT = 5 * 60",
        "CELERY_TASK_SOFT_TIME_LIMIT = 60",
        'CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"'
        if rng.random() < 0.3
        else "CELERY_BEAT_SCHEDULE = {",
    ]
    if out[-1].endswith("{"):
        for index, app in enumerate(rng.sample(apps, min(len(apps), 3))):
            out += [
                f'    "{app}-nightly": {{',
                f'        "task": "{app}.tasks.process_{app}_0",',
                f'        "schedule": crontab(hour={index + 1}, minute=30),',
                "    },",
            ]
        out.append("}")
    if fixed:
        out += [f"{name} = {value}" for name, value in WANTED]
    return out


def celery_app(project: str, settings_module: str) -> str:
    """The Celery app module of Celery's Django guide (namespace CELERY)."""
    return (
        "import os\n\nfrom celery import Celery\n\n"
        "# Set the default Django settings module for the 'celery' program.\n"
        f'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{settings_module}")\n\n'
        f'app = Celery("{project}")\n\n'
        "# Using a string here means the worker doesn't have to serialize\n"
        "# the configuration object to child processes.\n"
        "# - namespace='CELERY' means all celery-related configuration keys\n"
        "#   should have a `CELERY_` prefix.\n"
        'app.config_from_object("django.conf:settings", namespace="CELERY")\n\n'
        "# Load task modules from all registered Django apps.\n"
        "app.autodiscover_tasks()\n\n\n"
        "@app.task(bind=True, ignore_result=True)\n"
        "def debug_task(self):\n"
        '    print(f"Request: {self.request!r}")\n'
    )


def manage(settings_module: str) -> str:
    """manage.py as Django's startproject writes it."""
    return (
        "#!/usr/bin/env python\n"
        '"""Django\'s command-line utility for administrative tasks."""\n'
        "import os\nimport sys\n\n\n"
        "def main():\n"
        f'    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{settings_module}")\n'
        "    try:\n"
        "        from django.core.management import execute_from_command_line\n"
        "    except ImportError as exc:\n"
        "        raise ImportError(\n"
        "            \"Couldn't import Django. Are you sure it's installed?\"\n"
        "        ) from exc\n"
        "    execute_from_command_line(sys.argv)\n\n\n"
        'if __name__ == "__main__":\n'
        "    main()\n"
    )


def wsgi(settings_module: str, kind: str) -> str:
    """wsgi.py or asgi.py (`kind`)."""
    return (
        f'"""{kind.upper()} config."""\n\nimport os\n\n'
        f"from django.core.{kind} import get_{kind}_application\n\n"
        f'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "{settings_module}")\n\n'
        f"application = get_{kind}_application()\n"
    )


def urls(project_pkg: str, apps: list[str]) -> str:
    """The project urls.py, including each app."""
    return (
        "from django.contrib import admin\nfrom django.urls import include, path\n\n"
        "urlpatterns = [\n"
        '    path("admin/", admin.site.urls),\n'
        + "".join(f'    path("{app}/", include("{app}.urls")),\n' for app in apps)
        + "]\n"
    )
