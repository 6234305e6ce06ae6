"""The Python side: find where each Celery app reads its settings, plan the missing ones.

Nothing of the repository is imported or run: apps, settings modules, star imports and
django-split-settings includes are read with `ast`; the modules that change are edited as text
splices placed with libcst.
"""

from celeryfix.pysettings.errors import SettingsSyntaxError
from celeryfix.pysettings.plan import SettingsHints, SettingsPlan, plan_settings
from celeryfix.pysettings.wanted import WantedSetting

__all__ = ["SettingsHints", "SettingsPlan", "SettingsSyntaxError", "WantedSetting", "plan_settings"]
