"""Replaying settings modules: final names, where they come from, and planned insertions."""

from __future__ import annotations

from celeryfix.pysettings.modules import ModuleResolver
from celeryfix.pysettings.sources import SourceIndex
from celeryfix.pysettings.timeline import Insertion, Timeline, Value


def timeline(files: dict[str, str]) -> Timeline:
    return Timeline(SourceIndex(files), ModuleResolver(files, [""]))


def test_star_imports_copy_public_final_names_in_order() -> None:
    files = {
        "s/base.py": "A = 1\n_PRIVATE = 2\nB = 'x'\nB = 'y'\n",
        "s/local.py": "A = 0\nfrom .base import *\nC = A\n",
    }
    view = timeline(files).run("s/local.py")
    assert set(view.namespace) == {"A", "B", "C"}
    assert view.namespace["A"].value == Value(literal="1")
    assert view.namespace["A"].path == "s/base.py"
    assert view.namespace["B"].value == Value(literal="'y'")
    assert view.files == {"s/local.py": 0, "s/base.py": 1}


def test_conditional_bindings() -> None:
    files = {
        "s.py": (
            "if DEBUG:\n    ONLY_IF = 1\n"
            "BOTH = True\nif DEBUG:\n    BOTH = False\n"
            "try:\n    IN_TRY = 1\nexcept ImportError:\n    IN_EXCEPT = 1\n"
        )
    }
    ns = timeline(files).run("s.py").namespace
    assert not ns["ONLY_IF"].certain
    assert ns["BOTH"].certain and ns["BOTH"].value.literal is None  # one of two values
    assert ns["IN_TRY"].certain and not ns["IN_EXCEPT"].certain


def test_functions_and_classes_do_not_bind_their_inner_names() -> None:
    files = {"s.py": "def f():\n    INNER = 1\nclass K:\n    ATTR = 2\nd = {'KEY': 1}\n"}
    assert set(timeline(files).run("s.py").namespace) == {"f", "K", "d"}


def test_unknown_star_imports() -> None:
    files = {
        "s/settings.py": (
            "from thirdparty.settings import *\n"
            "try:\n    from .local_settings import *\nexcept ImportError:\n    pass\n"
        ),
        "s/__init__.py": "",
    }
    view = timeline(files).run("s/settings.py")
    assert [(u.module, u.third_party, u.line) for u in view.unknown_imports] == [
        ("thirdparty.settings", True, 1),
        (".local_settings", False, 3),
    ]


def test_split_settings_include_runs_in_the_same_namespace() -> None:
    files = {
        "s/__init__.py": (
            "from split_settings.tools import include, optional\n"
            "A = 1\n"
            "include('components/*.py', optional('missing.py'))\n"
        ),
        "s/components/a.py": "B = A + 1\n",
        "s/components/b.py": "include('../extra.py')\nC = 3\n",
        "s/extra.py": "D = 4\n",
    }
    view = timeline(files).run("s/__init__.py")
    assert {"A", "B", "C"} <= set(view.namespace)
    assert "s/components/a.py" in view.files


def test_insertions_are_replayed_and_references_checked() -> None:
    files = {
        "s/base.py": "RETRY = env('X')\n",
        "s/local.py": "from .base import *\nRETRY = False\n",
    }
    t = timeline(files)
    by_name = Insertion("s/base.py", len(files["s/base.py"]), "ON_STARTUP", "RETRY")
    view = t.run("s/local.py", [by_name])
    assert view.namespace["ON_STARTUP"].value == Value(origin=("s/base.py", 8))
    assert view.namespace["RETRY"].value == Value(literal="False")
    unbound = Insertion("s/base.py", 0, "ON_STARTUP", "RETRY")  # before RETRY exists
    assert t.run("s/local.py", [unbound]).broken_insertions == [unbound]


def test_circular_star_imports_end() -> None:
    files = {"a.py": "from b import *\nA = 1\n", "b.py": "from a import *\nB = 1\n"}
    assert set(timeline(files).run("a.py").namespace) == {"A", "B"}


def test_a_literal_all_limits_what_a_star_import_copies() -> None:
    files = {
        "s/base.py": "__all__ = ['A', '_B']\nA = 1\n_B = 2\nC = 3\n__all__ += ('C',)\nD = 4\n",
        "s/local.py": "from .base import *\n",
    }
    namespace = timeline(files).run("s/local.py").namespace
    assert set(namespace) == {"A", "_B", "C"}
    assert all(binding.certain for binding in namespace.values())


def test_an_unknown_all_makes_every_copy_uncertain() -> None:
    for exports in (
        "__all__ = names()\n",
        "__all__ = ['A']\n__all__.append('B')\n",
        "__all__ = ['A']\nif X:\n    __all__ = ['B']\n",
        "__all__ += ['A']\n",  # extends a list it never made
    ):
        files = {"s/base.py": exports + "A = 1\nB = 2\n", "s/local.py": "from .base import *\n"}
        namespace = timeline(files).run("s/local.py").namespace
        assert set(namespace) == {"A", "B"}, exports
        assert not any(binding.certain for binding in namespace.values()), exports


def test_an_insertion_into_a_module_with_a_literal_all_is_not_exported() -> None:
    files = {"s/base.py": "__all__ = ['A']\nA = 1\n", "s/local.py": "from .base import *\n"}
    insertion = Insertion("s/base.py", len(files["s/base.py"]), "NEW", "True")
    assert "NEW" not in timeline(files).run("s/local.py", [insertion]).namespace


def test_star_imports_and_first_binding() -> None:
    files = {
        "s/a.py": "from .b import *\nif X:\n    from .c import *\nY = 1\nCELERY_X = 2\n",
        "s/b.py": "",
        "s/c.py": "",
    }
    t = timeline(files)
    assert [star.target for star in t.star_imports("s/a.py")] == ["s/b.py"]
    assert t.first_binding("s/a.py", lambda name: name.startswith("CELERY_")) == files[
        "s/a.py"
    ].index("CELERY_X")
    assert t.first_binding("s/b.py", lambda name: True) is None
