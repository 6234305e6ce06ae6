"""Why planning settings can stop: a file that matters is not valid Python."""

from __future__ import annotations


class SettingsSyntaxError(Exception):
    """A Celery app module or settings module that matters does not parse."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: invalid Python: {message}")
        self.path = path
        self.line = line
        self.message = message


class TemplatedFile(Exception):
    """A file that holds template markup (Jinja: `{{`, `{%`) instead of Python."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path} is a template (Jinja markup), not Python")
        self.path = path
