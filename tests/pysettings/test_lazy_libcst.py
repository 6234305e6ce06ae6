"""libcst takes a fifth of a second to import: only a run that changes a module may load it."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import sys
import celeryfix.engine
from celeryfix.pysettings import SettingsHints, plan_settings
from celeryfix.rules.cf203_worker_log_color import WANTED

app = (
    "from celery import Celery\\n"
    "app = Celery('proj')\\n"
    "app.config_from_object('proj.celeryconfig')\\n"
)
loaded = ["libcst" in sys.modules]
given = {"proj/celery.py": app, "proj/celeryconfig.py": "worker_log_color = True\\n"}
assert plan_settings(given, [WANTED], SettingsHints()).edits == ()
loaded.append("libcst" in sys.modules)
lacking = {"proj/celery.py": app, "proj/celeryconfig.py": "broker_url = 'r'\\n"}
assert plan_settings(lacking, [WANTED], SettingsHints()).edits != ()
loaded.append("libcst" in sys.modules)
print(loaded)
"""


def test_libcst_is_loaded_only_for_a_module_that_changes() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False, timeout=120
    )
    assert completed.returncode == 0, completed.stderr
    # engine imported, nothing to change: not loaded; a line to add: loaded.
    assert completed.stdout.strip() == "[False, False, True]"
