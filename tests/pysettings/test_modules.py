"""Dotted module names to repository files."""

from __future__ import annotations

from celeryfix.pysettings.modules import ModuleResolver, ancestors, normalize_root

FILES = [
    "manage.py",
    "config/__init__.py",
    "config/settings/__init__.py",
    "config/settings/base.py",
    "config/settings/local.py",
    "config/celery_app.py",
    "backend/crm/__init__.py",
    "backend/crm/settings.py",
    "backend/crm/celery.py",
    "src/proj/settings.py",
    "proj/settings/components/a.py",
    "proj/settings/components/b.py",
    "proj/settings/components/deep/c.py",
]


def resolver(*roots: str) -> ModuleResolver:
    return ModuleResolver(FILES, ["", "src", *roots])


def test_normalize_root() -> None:
    assert normalize_root("./backend/") == "backend"
    assert normalize_root(".") == ""
    assert normalize_root("a\\b") == "a/b"


def test_ancestors() -> None:
    assert ancestors("a/b/c.py") == ["a/b", "a", ""]
    assert ancestors("c.py") == [""]


def test_module_and_package() -> None:
    r = resolver()
    assert r.resolve("config.settings.local", None) == "config/settings/local.py"
    assert r.resolve("config.settings", None) == "config/settings/__init__.py"
    assert r.resolve("proj.settings", None) == "src/proj/settings.py"
    assert r.resolve("nowhere", None) is None
    assert r.resolve("not-an.identifier", None) is None


def test_a_folder_above_the_importer_that_is_not_a_package_is_a_root() -> None:
    r = resolver()
    assert r.resolve("crm.settings", "backend/crm/celery.py") == "backend/crm/settings.py"
    # only when asked from inside backend/ (or when backend/ is a known root)
    assert r.resolve("crm.settings", "manage.py", anywhere=False) is None
    assert resolver("backend").resolve("crm.settings", None) == "backend/crm/settings.py"


def test_relative() -> None:
    r = resolver()
    assert r.resolve_relative("config/settings/local.py", 1, "base") == "config/settings/base.py"
    assert r.resolve_relative("config/settings/local.py", 2, "celery_app") == "config/celery_app.py"
    assert r.resolve_relative("config/settings/local.py", 1, None) == "config/settings/__init__.py"
    assert r.resolve_relative("manage.py", 2, "x") is None


def test_top_level_known() -> None:
    r = resolver()
    assert r.top_level_known("config.settings.missing", "manage.py")
    assert not r.top_level_known("thirdparty.settings", "manage.py")


def test_glob_like_django_split_settings() -> None:
    r = resolver()
    folder = "proj/settings"
    assert r.glob(folder, "components/*.py") == [
        "proj/settings/components/a.py",
        "proj/settings/components/b.py",
    ]
    assert r.glob(folder, "components/b.py") == ["proj/settings/components/b.py"]
    assert r.glob(folder, "components/missing.py") == []
    assert r.glob(folder, "../../../outside.py") == []
