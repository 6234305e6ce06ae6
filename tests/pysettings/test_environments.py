"""Split settings: which modules an environment builds on, and which modules are environments."""

from __future__ import annotations

from celeryfix.pysettings.environments import bases, sibling_environments
from celeryfix.pysettings.modules import ModuleResolver
from celeryfix.pysettings.sources import SourceIndex
from celeryfix.pysettings.timeline import Timeline


def celery(name: str) -> bool:
    return name.startswith("CELERY_")


def setup(files: dict[str, str]) -> tuple[SourceIndex, Timeline]:
    index = SourceIndex(files)
    return index, Timeline(index, ModuleResolver(files, [""]))


def test_bases_are_imported_before_the_importers_own_settings() -> None:
    files = {
        "s/local.py": "from .base import *\nCELERY_A = 1\nfrom .overrides import *\n",
        "s/base.py": "from s.common import *\nCELERY_B = 2\nfrom .celery_late import *\n",
        "s/common.py": "CELERY_C = 3\n",
        "s/overrides.py": "CELERY_D = 4\n",
        "s/celery_late.py": "CELERY_E = 5\n",
    }
    _, timeline = setup(files)
    assert bases(timeline, "s/local.py", celery) == {"s/base.py", "s/common.py"}


def test_an_importer_without_settings_of_the_family_builds_on_all_it_imports() -> None:
    files = {
        "s/__init__.py": "from .base import *\nDEBUG = 1\nfrom .more import *\n",
        "s/base.py": "",
        "s/more.py": "",
    }
    _, timeline = setup(files)
    assert bases(timeline, "s/__init__.py", celery) == {"s/base.py", "s/more.py"}


def test_conditional_imports_and_circles() -> None:
    files = {
        "s/a.py": "from .b import *\nif DEBUG:\n    from .c import *\n",
        "s/b.py": "from .a import *\n",
        "s/c.py": "",
    }
    _, timeline = setup(files)
    assert bases(timeline, "s/a.py", celery) == {"s/b.py"}


def test_siblings_build_on_a_shared_base_directly_or_not() -> None:
    files = {
        "s/base.py": "CELERY_A = 1\n",
        "s/local.py": "from .base import *\n",
        "s/production.py": "from .base import *\n",
        "s/ci.py": "from .production import *\n",
        "s/maybe.py": "if X:\n    from .base import *\n",
        "s/other.py": "from .constants import *\n",
        "s/broken.py": "from .base import *\nX = (\n",
        "s/uses_broken.py": "from .broken import *\n",
        "s/deeper/test.py": "from ..base import *\n",
    }
    index, timeline = setup(files)
    known = {"s/local.py", "s/base.py"}
    found = sibling_environments(index, timeline, "s/local.py", {"s/base.py"}, known)
    assert found == ["s/ci.py", "s/production.py"]
