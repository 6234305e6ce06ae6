"""A seeded corpus of synthetic Django/Celery repositories for the benchmark.

Each repository follows a layout seen in the wild:

- `single`: one `settings.py` next to `celery.py` in the project package (the Celery docs'
  "First steps with Django"), at the repository root or below `backend/`;
- `split`: cookiecutter-django's `config/settings/{base,local,production,test}.py`, where the
  environments do `from .base import *` and the app lives in `config/celery_app.py`;
- `fixed`: either layout with the three settings and the `--uid/--gid` flags already there;
- `plain`: a Django project without Celery at all.

Around the project: Django apps (models, views, admin, serializers, tasks, tests, migrations,
templates), `manage.py`, `requirements.txt`, a Dockerfile, `docker-compose.yml` plus an override
with the worker and beat commands as strings, flow lists or block lists, and the noise a checkout
carries that must be skipped: `.git`, `node_modules`, a virtual environment, `__pycache__` and
gitignored `staticfiles`/`media` folders.

The same (seed, repos, files) always gives the same bytes. `manifest.json` records, per
repository, the files celeryfix is expected to change; the benchmark checks celeryfix's plan
against it and hands the settings files celeryfix changes to the libcst baseline.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import corpus_deploy as deploy
import corpus_django as django

GENERATOR_VERSION = 2
CORPORA = Path(__file__).resolve().parent / ".corpus"  # gitignored


_PROJECTS = [
    "crm",
    "shop",
    "billing",
    "portal",
    "inventory",
    "helpdesk",
    "analytics",
    "booking",
    "lms",
    "newsroom",
    "payroll",
    "logistics",
    "clinic",
    "marketplace",
    "ticketing",
    "warehouse",
    "fleet",
    "library",
]
_APPS = [
    "accounts",
    "companies",
    "orders",
    "invoices",
    "products",
    "customers",
    "payments",
    "notifications",
    "reports",
    "catalog",
    "shipments",
    "reviews",
    "subscriptions",
    "documents",
    "messaging",
    "projects",
    "tickets",
    "contracts",
    "warehouses",
    "suppliers",
    "employees",
    "schedules",
    "coupons",
    "events",
]


@dataclass(frozen=True)
class CorpusSpec:
    """What to generate; the same spec always gives the same corpus."""

    repos: int = 200
    files: int = 150  # the repository's own files, noise folders not counted
    seed: int = 2024


@dataclass
class RepoEntry:
    """One generated repository and what celeryfix should do to it."""

    name: str
    layout: str  # single, split, fixed, plain
    own_files: int
    noise_files: int
    python_files: int
    # CF201-CF203 change exactly one of these settings modules (with Celery, not yet fixed).
    settings_candidates: list[str] = field(default_factory=list)
    compose_changes: list[str] = field(default_factory=list)  # files CF101/CF102 change


@dataclass
class Manifest:
    version: int
    spec: CorpusSpec
    repos: list[RepoEntry]

    def repo_paths(self, root: Path) -> list[Path]:
        return [root / repo.name for repo in self.repos]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"

    @staticmethod
    def from_json(text: str) -> Manifest:
        data = json.loads(text)
        return Manifest(
            data["version"],
            CorpusSpec(**data["spec"]),
            [RepoEntry(**repo) for repo in data["repos"]],
        )


class _Repo:
    """Files of one repository being generated, counted as own files or noise."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.own = 0
        self.noise = 0
        self.python = 0

    def write(self, relpath: str, text: str | bytes, *, noise: bool = False) -> None:
        path = self.root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        data = text.encode("utf-8") if isinstance(text, str) else text
        path.write_bytes(data)
        if noise:
            self.noise += 1
        else:
            self.own += 1
            self.python += relpath.endswith(".py")


# -- Django apps --------------------------------------------------------------------------------


def _write_app(rng: random.Random, repo: _Repo, base: str, app: str) -> None:
    classes = [django.class_name(app, index) for index in range(rng.randint(1, 4))]
    prefix = f"{base}/{app}" if base else app
    repo.write(f"{prefix}/__init__.py", "")
    repo.write(
        f"{prefix}/apps.py",
        "from django.apps import AppConfig\n\n\n"
        f"class {app.title()}Config(AppConfig):\n"
        '    default_auto_field = "django.db.models.BigAutoField"\n'
        f'    name = "{app}"\n',
    )
    repo.write(f"{prefix}/models.py", django.models(rng, app, classes))
    repo.write(f"{prefix}/views.py", django.views(app, classes))
    repo.write(f"{prefix}/serializers.py", django.serializers(classes))
    repo.write(f"{prefix}/admin.py", django.admin(classes))
    repo.write(
        f"{prefix}/urls.py",
        "from django.urls import path\n\nfrom . import views\n\n"
        f'app_name = "{app}"\n\nurlpatterns = [\n'
        + "".join(
            f'    path("{c.lower()}/", views.{c}ListView.as_view(), name="{c.lower()}-list"),\n'
            f'    path("{c.lower()}/<int:pk>/", views.{c}DetailView.as_view(),'
            f' name="{c.lower()}-detail"),\n'
            for c in classes
        )
        + "]\n",
    )
    if rng.random() < 0.8:
        repo.write(f"{prefix}/tasks.py", django.tasks(rng, app, classes))
    repo.write(f"{prefix}/tests/__init__.py", "")
    for kind in ("models", "views", "api")[: rng.randint(1, 3)]:
        repo.write(f"{prefix}/tests/test_{kind}.py", django.test_module(rng, app, classes, kind))
    repo.write(f"{prefix}/migrations/__init__.py", "")
    for number in range(1, rng.randint(2, 8)):
        repo.write(
            f"{prefix}/migrations/{number:04d}_auto.py", django.migration(rng, app, number, classes)
        )
    for cls in classes:
        repo.write(
            f"{prefix}/templates/{app}/{cls.lower()}_list.html",
            '{% extends "base.html" %}\n{% block content %}\n<ul>\n'
            "{% for item in object_list %}<li>{{ item }}</li>{% endfor %}\n"
            "</ul>\n{% endblock %}\n",
        )
    if rng.random() < 0.7:
        for number in range(rng.randint(2, 6)):
            repo.write(
                f"{prefix}/__pycache__/models.cpython-312.{number}.pyc",
                bytes(rng.randrange(256) for _ in range(256)),
                noise=True,
            )


# -- noise: what must be skipped ---------------------------------------------------------------


def _noise(rng: random.Random, repo: _Repo, frontend: str) -> None:
    git_objects = rng.randint(15, 40)
    repo.write(".git/HEAD", "ref: refs/heads/main\n", noise=True)
    repo.write(".git/config", "[core]\n\trepositoryformatversion = 0\n\tbare = false\n", noise=True)
    for _ in range(git_objects):
        name = f"{rng.getrandbits(160):040x}"
        repo.write(
            f".git/objects/{name[:2]}/{name[2:]}",
            bytes(rng.randrange(256) for _ in range(512)),
            noise=True,
        )
    if rng.random() < 0.5:
        for index in range(rng.randint(30, 80)):
            package = f"pkg{index % 17}"
            repo.write(
                f"{frontend}node_modules/{package}/lib/mod{index}.js",
                f"module.exports = function m{index}(x) {{ return x + {index}; }};\n",
                noise=True,
            )
            repo.write(
                f"{frontend}node_modules/{package}/package.json",
                json.dumps({"name": package, "version": "1.0.0"}),
                noise=True,
            )
        # node-gyp ships Python: a walk that does not prune node_modules parses it.
        repo.write(
            f"{frontend}node_modules/node-gyp/gyp/pylib/gyp/common.py",
            "import os\n\n\ndef celery_free(x):\n    return os.path.join(x, 'a')\n",
            noise=True,
        )
    if rng.random() < 0.35:
        venv = rng.choice((".venv", "venv", "env"))
        repo.write(f"{venv}/pyvenv.cfg", "home = /usr/bin\nversion = 3.12.3\n", noise=True)
        site = f"{venv}/lib/python3.12/site-packages"
        for index in range(rng.randint(40, 100)):
            repo.write(
                f"{site}/celery/app/mod{index}.py",
                f"from celery import Celery\n\n\nclass Celery{index}(Celery):\n"
                '    """A subclass in a dependency: never ours to edit."""\n\n\n'
                f'app = Celery{index}("dep")\n'
                'app.config_from_object("django.conf:settings", namespace="CELERY")\n',
                noise=True,
            )
    if rng.random() < 0.3:
        for index in range(rng.randint(10, 30)):
            repo.write(
                f"staticfiles/admin/js/file{index}.js", f"var x{index} = {index};\n", noise=True
            )
        repo.write("media/uploads/report.csv", "id,name\n1,a\n", noise=True)


# -- one repository ------------------------------------------------------------------------------


def _generate_repo(root: Path, index: int, spec: CorpusSpec) -> RepoEntry:
    rng = random.Random(f"{spec.seed}:{index}")
    project = rng.choice(_PROJECTS)
    roll = rng.random()
    layout = (
        "plain" if roll < 0.08 else "fixed" if roll < 0.18 else "split" if roll < 0.55 else "single"
    )
    split = layout == "split" or (layout == "fixed" and rng.random() < 0.5)
    celery = layout != "plain"
    fixed = layout == "fixed"
    name = f"repo-{index:04d}-{project}"
    repo = _Repo(root / name)
    entry = RepoEntry(name, layout, 0, 0, 0)

    base = "" if split or rng.random() < 0.5 else "backend"
    prefix = f"{base}/" if base else ""
    package = "config" if split else project
    apps: list[str] = []
    app_pool = rng.sample(_APPS, len(_APPS))

    if split:
        settings_module = "config.settings.local"
        app_name = "config.celery_app"
        settings_candidates = ["config/settings/base.py"]
    else:
        settings_module = f"{project}.settings"
        app_name = project
        settings_candidates = [f"{prefix}{project}/settings.py"]

    # Django apps until the repository holds about `spec.files` files (the fixed part ~25).
    while not apps or repo.own < spec.files - 25:
        app = app_pool[len(apps) % len(app_pool)]
        app = app if len(apps) < len(app_pool) else f"{app}{len(apps) // len(app_pool)}"
        _write_app(rng, repo, base, app)
        apps.append(app)

    body = django.settings_body(rng, project, apps, split)
    celery_block = django.celery_block(rng, apps, fixed) if celery else []
    if split:
        repo.write("config/settings/__init__.py", "")
        repo.write("config/settings/base.py", "\n".join(body + celery_block) + "\n")
        repo.write(
            "config/settings/local.py",
            "from .base import *  # noqa: F403\nfrom .base import INSTALLED_APPS\n\n"
            'DEBUG = True\nALLOWED_HOSTS = ["localhost", "0.0.0.0", "127.0.0.1"]\n'
            'EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"\n'
            'INSTALLED_APPS += ["django_extensions"]  # noqa: F405\n\n'
            "# Celery\nCELERY_TASK_EAGER_PROPAGATES = True\n",
        )
        repo.write(
            "config/settings/production.py",
            "from .base import *  # noqa: F403\nfrom .base import DATABASES\n\n"
            'SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]  # noqa: F405\n'
            'ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")  # noqa: F405\n'
            'DATABASES["default"]["CONN_MAX_AGE"] = 600\n'
            "SECURE_SSL_REDIRECT = True\nSESSION_COOKIE_SECURE = True\n"
            "CSRF_COOKIE_SECURE = True\n",
        )
        repo.write(
            "config/settings/test.py",
            "from .base import *  # noqa: F403\n\n"
            'PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]\n'
            "CELERY_TASK_ALWAYS_EAGER = True\n",
        )
        settings_for = {"local": "config.settings.local", "prod": "config.settings.production"}
    else:
        repo.write(f"{prefix}{project}/settings.py", "\n".join(body + celery_block) + "\n")
        settings_for = {"local": settings_module, "prod": settings_module}

    if celery:
        repo.write(
            f"{prefix}{package}/__init__.py",
            "# Make sure the app is always imported when Django starts\n"
            "# so that shared_task will use this app.\n"
            f"from .{'celery_app' if split else 'celery'} import app as celery_app\n\n"
            '__all__ = ("celery_app",)\n',
        )
        repo.write(
            f"{prefix}{package}/{'celery_app' if split else 'celery'}.py",
            django.celery_app(project, settings_module),
        )
    else:
        repo.write(f"{prefix}{package}/__init__.py", "")
    repo.write(f"{prefix}{package}/urls.py", django.urls(package, apps))
    # cookiecutter-django's wsgi.py defaults to production; only the worker's view counts.
    repo.write(f"{prefix}{package}/wsgi.py", django.wsgi(settings_for["prod"], "wsgi"))
    repo.write(f"{prefix}{package}/asgi.py", django.wsgi(settings_module, "asgi"))
    repo.write(f"{prefix}manage.py", django.manage(settings_module))
    repo.write(f"{prefix}requirements.txt", deploy.requirements(celery))
    repo.write(f"{prefix}Dockerfile", deploy.dockerfile(rng))
    repo.write(
        f"{prefix}templates/base.html", "<!doctype html>\n{% block content %}{% endblock %}\n"
    )
    repo.write(".gitignore", deploy.GITIGNORE)
    repo.write(".env.example", "DJANGO_DEBUG=1\nPOSTGRES_HOST=db\nREDIS_URL=redis://redis:6379/0\n")
    repo.write("README.md", f"# {project}\n\n`docker compose up` and open http://localhost:8000\n")
    if rng.random() < 0.5:
        repo.write(
            "pyproject.toml",
            '[tool.ruff]\nline-length = 100\nextend-exclude = ["*/migrations/*"]\n\n'
            f'[tool.pytest.ini_options]\nDJANGO_SETTINGS_MODULE = "{settings_for["local"]}"\n',
        )
    frontend = "frontend/"
    repo.write(f"{frontend}package.json", json.dumps({"name": project, "private": True}) + "\n")
    for page in range(rng.randint(2, 6)):
        repo.write(f"{frontend}src/page{page}.js", f"export const page{page} = () => {page};\n")

    build = f"./{base}" if base else "."
    compose_main = deploy.compose(rng, app_name, build, settings_for["local"], celery, fixed)
    repo.write("docker-compose.yml", compose_main)
    override_name = rng.choice(("docker-compose.prod.yml", "docker-compose.override.yml"))
    override_module = settings_for["prod" if override_name.endswith("prod.yml") else "local"]
    repo.write(override_name, deploy.override(rng, app_name, override_module, celery, fixed))
    _noise(rng, repo, frontend)

    if split and override_module == settings_for["local"]:
        # Every worker of the repository reads config.settings.local, which star-imports base:
        # the lines are right in either (after local's own Celery block, or in base.py).
        settings_candidates.append("config/settings/local.py")
    if celery and not fixed:
        entry.settings_candidates = settings_candidates
        entry.compose_changes = sorted(["docker-compose.yml", override_name])
    entry.own_files, entry.noise_files, entry.python_files = repo.own, repo.noise, repo.python
    return entry


def default_root(spec: CorpusSpec) -> Path:
    """bench/.corpus/r200-f150-s2024: one folder per spec, so --quick keeps the full corpus."""
    return CORPORA / f"r{spec.repos}-f{spec.files}-s{spec.seed}"


def generate(spec: CorpusSpec, root: Path | None = None, *, force: bool = False) -> Manifest:
    """The corpus for `spec` under `root`; reused when a manifest of the same spec is there."""
    root = root or default_root(spec)
    manifest_path = root / "manifest.json"
    if not force and manifest_path.exists():
        try:
            manifest = Manifest.from_json(manifest_path.read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError):
            manifest = None
        if manifest is not None and manifest.version == GENERATOR_VERSION and manifest.spec == spec:
            return manifest
    if root.exists():
        if not manifest_path.exists() and any(root.iterdir()):
            raise SystemExit(f"{root}: not empty and holds no manifest.json; not replacing it")
        shutil.rmtree(root)
    root.mkdir(parents=True)
    repos = [_generate_repo(root, index, spec) for index in range(spec.repos)]
    manifest = Manifest(GENERATOR_VERSION, spec, repos)
    manifest_path.write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos", type=int, default=CorpusSpec.repos)
    parser.add_argument("--files", type=int, default=CorpusSpec.files)
    parser.add_argument("--seed", type=int, default=CorpusSpec.seed)
    parser.add_argument(
        "--root", type=Path, help="default: bench/.corpus/r<repos>-f<files>-s<seed>"
    )
    parser.add_argument("--force", action="store_true", help="regenerate even if up to date")
    args = parser.parse_args(argv)
    spec = CorpusSpec(args.repos, args.files, args.seed)
    root = args.root or default_root(spec)
    manifest = generate(spec, root, force=args.force)
    own = sum(repo.own_files for repo in manifest.repos)
    noise = sum(repo.noise_files for repo in manifest.repos)
    print(f"{root}: {len(manifest.repos)} repositories, {own} own files, {noise} noise files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
