"""Deployment files of a synthetic repository: compose files, Dockerfile, requirements."""

from __future__ import annotations

import json
import random


def command(rng: random.Random, words: list[str], indent: str) -> str:
    """A compose `command:` in one of the three spellings found in the wild."""
    style = rng.random()
    if style < 0.5:
        return f"{indent}command: {' '.join(words)}\n"
    if style < 0.8:
        return f"{indent}command: [{', '.join(json.dumps(w) for w in words)}]\n"
    return f"{indent}command:\n" + "".join(f"{indent}  - {w}\n" for w in words)


def compose(
    rng: random.Random, app_name: str, build: str, settings_module: str, celery: bool, fixed: bool
) -> str:
    """docker-compose.yml: db, redis, web and, with Celery, a worker and a beat."""
    flags = ["--uid=nobody", "--gid=nogroup"] if fixed else []
    out = (
        "services:\n"
        "  db:\n"
        "    image: postgres:16\n"
        "    environment:\n"
        "      POSTGRES_PASSWORD: postgres\n"
        "    volumes:\n"
        "      - postgres_data:/var/lib/postgresql/data\n\n"
        "  redis:\n"
        "    image: redis:7-alpine\n\n"
        "  web:\n"
        f"    build: {build}\n"
        "    command: python manage.py runserver 0.0.0.0:8000\n"
        "    env_file:\n"
        "      - .env.example\n"
        "    environment:\n"
        f"      - DJANGO_SETTINGS_MODULE={settings_module}\n"
        "    ports:\n"
        '      - "8000:8000"\n'
        "    depends_on:\n"
        "      - db\n"
        "      - redis\n"
    )
    if celery:
        beat_extra = ["--schedule=/tmp/celerybeat-schedule"] if fixed else []
        for service, sub, extra in (
            ("celery", "worker", ["-l", "info"]),
            ("celery-beat", "beat", ["-l", "info", *beat_extra]),
        ):
            out += (
                f"\n  {service}:\n"
                f"    build: {build}\n"
                + command(rng, ["celery", "-A", app_name, sub, *extra, *flags], "    ")
                + "    env_file:\n"
                "      - .env.example\n"
                "    environment:\n"
                f"      - DJANGO_SETTINGS_MODULE={settings_module}\n"
                "    depends_on:\n"
                "      - redis\n"
            )
    return out + "\nvolumes:\n  postgres_data:\n"


def override(
    rng: random.Random, app_name: str, settings_module: str, celery: bool, fixed: bool
) -> str:
    """The override file: restart policies, settings module, more worker concurrency."""
    flags = ["--uid=nobody", "--gid=nogroup"] if fixed else []
    environment = f"    environment:\n      DJANGO_SETTINGS_MODULE: {settings_module}\n"
    out = (
        "# Production:\n#   docker compose -f docker-compose.yml -f docker-compose.prod.yml up -d\n"
        "services:\n"
        "  web:\n"
        "    restart: always\n"
        "    command: gunicorn --bind 0.0.0.0:8000 --workers 3 wsgi:application\n" + environment
    )
    if celery:
        out += (
            "\n  celery:\n    restart: always\n"
            + command(
                rng,
                ["celery", "-A", app_name, "worker", "-l", "info", "--concurrency=4", *flags],
                "    ",
            )
            + environment
        )
        out += "\n  celery-beat:\n    restart: always\n" + environment
    return out


def dockerfile(rng: random.Random) -> str:
    """A python:3.x-slim Dockerfile running gunicorn."""
    version = rng.choice(("3.10", "3.11", "3.12"))
    return (
        f"FROM python:{version}-slim\n\n"
        "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\n"
        "WORKDIR /app\n\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev"
        " && rm -rf /var/lib/apt/lists/*\n\n"
        "COPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n\n"
        "COPY . .\n\n"
        'CMD ["gunicorn", "--bind", "0.0.0.0:8000", "wsgi:application"]\n'
    )


GITIGNORE = (
    "*.pyc\n__pycache__/\n.env\n.venv/\nvenv/\nnode_modules/\ndb.sqlite3\n"
    "staticfiles/\nmedia/\n.coverage\nhtmlcov/\n"
)


def requirements(celery: bool) -> str:
    """requirements.txt, with celery when the project uses it."""
    lines = ["Django==5.0.6", "djangorestframework==3.15.1", "psycopg[binary]==3.1.19"]
    if celery:
        lines += ["celery[redis]==5.4.0", "django-celery-beat==2.6.0"]
    return "\n".join([*lines, "gunicorn==22.0.0", ""])
