"""celeryfix never imports or runs the code of the repository it fixes.

Every Python file of the test repository (manage.py, the settings, the Celery app, the package
`__init__`, and modules named like celeryfix's own dependencies, which a careless sys.path
would import instead of them) writes a marker file when imported. After `apply`, run from
inside the repository and from outside, with one job and with several, no marker exists, and
the repository was fixed (so its files were really read).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from strategies import run_celeryfix, write_repo

from celeryfix.config import resolve_options
from celeryfix.engine import plan_repository


def tripwire(markers: Path, name: str) -> str:
    """Python that leaves a marker named `name` when it is imported or run."""
    return f"import pathlib as _p\n_p.Path({str(markers)!r}, {name!r}).write_text('imported')\n"


def hostile_repository(root: Path, markers: Path) -> dict[str, str]:
    def module(name: str, body: str = "") -> str:
        return tripwire(markers, name) + body

    files = {
        "docker-compose.yml": (
            "services:\n  worker:\n    build: .\n    command: celery -A proj worker -l info\n"
        ),
        "manage.py": module(
            "manage.py",
            "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n",
        ),
        "proj/__init__.py": module("proj-init", "from .celery import app as celery_app\n"),
        "proj/celery.py": module(
            "celery-app",
            "import os\nfrom celery import Celery\n"
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'proj.settings')\n"
            "app = Celery('proj')\n"
            "app.config_from_object('django.conf:settings', namespace='CELERY')\n",
        ),
        "proj/settings.py": module("settings", "DEBUG = True\nCELERY_BROKER_URL = 'redis://'\n"),
        "proj/tasks.py": module("tasks"),
        "setup.py": module("setup.py"),
        "conftest.py": module("conftest"),
        "sitecustomize.py": module("sitecustomize"),
        "usercustomize.py": module("usercustomize"),
    }
    # Top-level modules named like what celeryfix imports: picked up only if the repository
    # were ever put on sys.path.
    for shadow in ("typer", "rich", "pathspec", "libcst", "yaml", "celery", "django", "click"):
        files[f"{shadow}/__init__.py"] = module(f"shadow-{shadow}")
    files["ruamel/yaml/__init__.py"] = module("shadow-ruamel")
    files["ruamel/__init__.py"] = ""
    files["celeryfix/__init__.py"] = module("shadow-celeryfix")
    files["celeryfix/cli.py"] = module("shadow-celeryfix-cli", "def main():\n    pass\n")
    write_repo(root, files)
    return files


@pytest.mark.parametrize(("where", "jobs"), [("inside", 1), ("inside", 2), ("outside", 1)], ids=str)
def test_apply_imports_nothing_of_the_repository(tmp_path: Path, where: str, jobs: int) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    repos = [tmp_path / "one", tmp_path / "two"]
    before = {root: hostile_repository(root, markers) for root in repos}
    if where == "inside":
        ran = run_celeryfix(["apply", "-j", str(jobs), ".", "../two"], repos[0])
    else:
        ran = run_celeryfix(["apply", "-j", str(jobs), "one", "two"], tmp_path)
    assert ran.code == 0 and "Traceback" not in ran.stderr, ran
    assert sorted(p.name for p in markers.iterdir()) == []
    for root in repos:
        assert (root / "docker-compose.yml").read_text() != before[root]["docker-compose.yml"]
        assert (root / "proj/settings.py").read_text() != before[root]["proj/settings.py"]


def test_planning_in_process_imports_nothing(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    root = tmp_path / "repo"
    hostile_repository(root, markers)
    modules = set(sys.modules)
    result = plan_repository(root, resolve_options(root, {}))
    assert result.error is None and result.changes
    assert list(markers.iterdir()) == []
    assert not {m for m in set(sys.modules) - modules if m.split(".")[0] in {"proj", "manage"}}
