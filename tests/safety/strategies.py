"""Hypothesis generators for the safety tests, and small helpers to write and run repositories.

Compose files: every command form the compose rules fix (plain, quoted, flow and block lists,
literal and folded blocks, `sh -c`, entrypoint + command), dressed in random comments (some of
them mentioning `celery worker`), blank lines, indentation, anchors and merge keys, document
markers, CRLF, a BOM, no final newline. The before-texts of the CF101/CF102 case tables
(tests/rules) are drawn whole as further seeds.

Settings modules (bytes): random surrounding code (imports, functions, classes, `if` blocks,
multi-line literals, comments, docstrings), Celery settings already present in the forms the
settings rules accept, PEP 263 latin-1 headers with non-ASCII text, a BOM, CRLF, tabs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st
from rules.test_cf101_worker_runs_as_root import TRANSFORMED as CF101_CASES
from rules.test_cf102_beat_runs_as_root import TRANSFORMED as CF102_CASES
from rules.test_cf102_beat_runs_as_root import compose as cf102_compose

Draw = Callable[[st.SearchStrategy[object]], object]

# --------------------------------------------------------------------------- commands

# argv of the programs a compose service may run: Celery worker and beat in the forms the
# compose rules handle, Celery commands they must leave alone, and other programs.
CELERY_ARGVS: tuple[tuple[str, ...], ...] = (
    ("celery", "-A", "proj", "worker", "-l", "info"),
    ("celery", "worker", "-A", "proj", "-l", "info"),
    ("celery", "--app=proj", "worker", "--concurrency=4"),
    ("python", "-m", "celery", "-A", "proj", "worker"),
    ("/usr/local/bin/celery", "-A", "proj", "worker", "-Q", "default,mail"),
    ("celery", "-A", "proj", "worker", "-B", "-l", "INFO"),
    ("celery", "-A", "proj", "beat", "-l", "info"),
    ("celery", "-A", "proj", "beat", "-s", "/var/run/beat/schedule"),
    ("celery", "beat", "-A", "proj"),
    ("tini", "--", "celery", "-A", "proj", "worker"),
    ("uv", "run", "celery", "-A", "proj", "worker"),
    ("celery", "-A", "proj", "worker", "-l", "${LOG_LEVEL:-info}"),
    ("celery", "-A", "proj", "worker", "--uid=nobody", "--gid=nogroup"),
    ("celery", "-A", "proj", "flower"),
    ("celery", "-A", "proj", "inspect", "ping"),
)
OTHER_ARGVS: tuple[tuple[str, ...], ...] = (
    ("python", "manage.py", "runserver", "0.0.0.0:8000"),
    ("gunicorn", "proj.wsgi", "-b", "0.0.0.0:8000"),
    ("redis-server",),
)
# A few characters that are not ASCII: offsets must count characters, writes must keep bytes.
WORDS = ("app", "proj", "worker", "celery", "Zürich", "naïve", "日本", "x", "ok", "€")
COMMENTS = (
    "# the worker",
    "# celery -A proj worker -l info",  # looks like a command; never edited
    "#",
    "# café — déjà vu",
    "#   command: celery beat",
)


def _needs_quotes_in_flow(word: str) -> bool:
    return any(c in word for c in ",[]{}#:'\"") or word.startswith(("&", "*", "!", "|", ">", "%"))


def _quote(draw: Draw, word: str, flow: bool) -> str:
    styles = ["double", "single"]
    if not flow or not _needs_quotes_in_flow(word):
        styles.append("plain")
    style = draw(st.sampled_from(styles))
    if style == "double":
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if style == "single":
        return "'" + word.replace("'", "''") + "'"
    return word


def _comment(draw: Draw) -> str:
    return str(draw(st.sampled_from(("", "", "  " + COMMENTS[0], "  " + COMMENTS[1], " #x"))))


@st.composite
def _command_value(draw: Draw, argv: tuple[str, ...], indent: str, label: str) -> str:
    """`argv` written as the value of a `command:` key (the text after `command:`)."""
    line = " ".join(argv)
    form = draw(
        st.sampled_from(
            ("plain", "double", "single", "flow", "block", "literal", "folded", "sh-c", "anchor")
        )
    )
    if form == "plain":
        return " " + line + _comment(draw)
    if form == "double":
        return ' "' + line + '"' + _comment(draw)
    if form == "single":
        return " '" + line + "'" + _comment(draw)
    if form == "flow":
        spacing = draw(st.sampled_from((", ", ",", " , ")))
        pad = draw(st.sampled_from(("", " ")))
        items = spacing.join(_quote(draw, word, flow=True) for word in argv)
        return f" [{pad}{items}{pad}]" + _comment(draw)
    if form == "block":
        step = draw(st.sampled_from(("", "  ")))  # `- item` under the key, or indented
        lines = []
        for word in argv:
            lines.append(f"{indent}{step}- {_quote(draw, word, flow=False)}{_comment(draw)}")
        return "\n" + "\n".join(lines)
    if form == "literal":
        chomp = draw(st.sampled_from(("", "-", "+")))
        return f" |{chomp}\n{indent}  {line}"
    if form == "folded":
        cut = draw(st.integers(1, len(argv)))
        head, tail = " ".join(argv[:cut]), " ".join(argv[cut:])
        body = f"{indent}  {head}" + (f"\n{indent}  {tail}" if tail else "")
        return " >\n" + body
    if form == "sh-c":
        shell = draw(st.sampled_from(("sh", "bash", "/bin/sh")))
        before = draw(st.sampled_from(("", "python manage.py migrate && ", "sleep 2; ")))
        quote = draw(st.sampled_from(("'", '"')))
        return f" {shell} -c {quote}{before}{line}{quote}" + _comment(draw)
    return f" &cmd-{label} {line}"  # an anchored command (another service may alias it)


@dataclass(frozen=True)
class _Service:
    name: str
    lines: tuple[str, ...]


@st.composite
def _service(draw: Draw, name: str, unit: str, anchors: Sequence[str]) -> _Service:
    """One service: its keys in random order, with blank lines and comments between them."""
    indent = unit * 2
    argv = draw(st.sampled_from(CELERY_ARGVS + OTHER_ARGVS))
    keys: list[str] = []
    if anchors and draw(st.booleans()):
        keys.append(f"{indent}<<: *{draw(st.sampled_from(anchors))}")
    keys.append(
        f"{indent}" + draw(st.sampled_from(("image: app", "build: .", "image: python:3.12")))
    )
    if draw(st.integers(0, 5)) == 0:
        # entrypoint + command, split where the draw says
        cut = draw(st.integers(1, len(argv)))
        entry = ", ".join(f'"{w}"' for w in argv[:cut])
        rest = ", ".join(f'"{w}"' for w in argv[cut:])
        keys.append(f"{indent}entrypoint: [{entry}]")
        keys.append(f"{indent}command: [{rest}]")
    else:
        value = draw(_command_value(argv, indent, name))
        keys.append(f"{indent}command:{value}")
    if draw(st.booleans()):
        word = draw(st.sampled_from(WORDS))
        keys.append(f"{indent}environment:\n{indent}{unit}GREETING: {word}\n{indent}{unit}Q: '1'")
    user = draw(st.sampled_from((None, None, None, "root", "app", '"1000:1000"')))
    if user is not None:
        keys.append(f"{indent}user: {user}")
    if draw(st.booleans()):
        keys.append(f"{indent}restart: unless-stopped{_comment(draw)}")
    order = draw(st.permutations(range(len(keys))))
    lines: list[str] = [f"{unit}{name}:"]
    for index in order:
        extra = draw(st.sampled_from(("", "", "blank", "comment", "deep-comment")))
        if extra == "blank":
            lines.append("")
        elif extra == "comment":
            lines.append(f"{indent}{draw(st.sampled_from(COMMENTS))}")
        elif extra == "deep-comment":
            lines.append(draw(st.sampled_from(COMMENTS)))  # a comment in column 0
        lines.append(keys[index])
    return _Service(name, tuple(lines))


def _finish(draw: Draw, text: str) -> bytes:
    """Whole-file dressing: document markers, no final newline, CRLF, a BOM."""
    if draw(st.booleans()):
        text = draw(st.sampled_from(("---\n", "--- # compose\n", "# top comment\n\n"))) + text
    if draw(st.integers(0, 3)) == 0:
        text = text + ("" if text.endswith("\n") else "\n") + "...\n"
    if draw(st.integers(0, 4)) == 0:
        text = text.rstrip("\n")
    if draw(st.integers(0, 3)) == 0:
        text = text.replace("\n", "\r\n")
    bom = b"\xef\xbb\xbf" if draw(st.integers(0, 5)) == 0 else b""
    return bom + text.encode("utf-8")


@st.composite
def structured_compose_files(draw: Draw) -> bytes:
    """A compose file built from random services (see the module docstring)."""
    unit = draw(st.sampled_from(("  ", "    ")))
    parts: list[str] = []
    anchors: list[str] = []
    if draw(st.booleans()):
        anchor = "common"
        anchors.append(anchor)
        body = [f"x-common: &{anchor}", f"{unit}image: app"]
        if draw(st.booleans()):
            argv = draw(st.sampled_from(CELERY_ARGVS))
            body.append(f"{unit}command: {' '.join(argv)}")
        if draw(st.booleans()):
            body.append(f"{unit}environment:\n{unit}{unit}TZ: Europe/Zürich")
        parts.append("\n".join(body))
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(COMMENTS)))
    names = draw(
        st.lists(
            st.sampled_from(("worker", "beat", "web", "celery", "w2", "jobs")),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    services = [draw(_service(name, unit, anchors)) for name in names]
    block = ["services:"]
    for service in services:
        block.extend(service.lines)
        if draw(st.booleans()):
            block.append("")
    anchored = [s.name for s in services if any(f"&cmd-{s.name} " in line for line in s.lines)]
    if anchored and draw(st.booleans()):
        # An alias of an anchored command: the very same node, run by one more service.
        block += [
            f"{unit}again:",
            f"{unit * 2}image: app",
            f"{unit * 2}command: *cmd-{anchored[0]}",
        ]
    parts.append("\n".join(block))
    if draw(st.booleans()):
        parts.append(f"volumes:\n{unit}data: {{}}")
    separator = draw(st.sampled_from(("\n", "\n\n")))
    return _finish(draw, separator.join(parts) + "\n")


SEED_COMPOSE_TEXTS: tuple[str, ...] = tuple(
    [case[1] for case in CF101_CASES] + [cf102_compose(case[1]) for case in CF102_CASES]
)


@st.composite
def seeded_compose_files(draw: Draw) -> bytes:
    """A before-text of the CF101/CF102 case tables, dressed (comments, markers, CRLF, BOM)."""
    text = str(draw(st.sampled_from(SEED_COMPOSE_TEXTS)))
    if "\r\n" in text:
        return text.encode("utf-8")  # already CRLF: keep it as written
    if draw(st.booleans()) and not text.startswith("---"):
        text = draw(st.sampled_from(COMMENTS)) + "\n\n" + text
    if draw(st.booleans()) and text.endswith("\n"):
        text += "\n" + draw(st.sampled_from(COMMENTS)) + "\n"
    if draw(st.integers(0, 3)) == 0:
        text = text.replace("\n", "\r\n")
    bom = b"\xef\xbb\xbf" if draw(st.integers(0, 5)) == 0 else b""
    return bom + text.encode("utf-8")


def compose_files() -> st.SearchStrategy[bytes]:
    """Compose files: structured ones and dressed seeds."""
    return st.one_of(structured_compose_files(), seeded_compose_files())


# --------------------------------------------------------------------------- settings modules

DJANGO_APP = (
    "import os\n"
    "from celery import Celery\n"
    'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n'
    'app = Celery("proj")\n'
    'app.config_from_object("django.conf:settings", namespace="CELERY")\n'
    "app.autodiscover_tasks()\n"
)
PLAIN_APP = (
    'from celery import Celery\napp = Celery("proj")\napp.config_from_object("proj.celeryconfig")\n'
)

_SURROUNDING = (
    "import os\n",
    "from pathlib import Path\n",
    "BASE_DIR = Path(__file__).resolve().parent.parent\n",
    'SECRET_KEY = os.environ.get("SECRET_KEY", "x")\n',
    "DEBUG = True\n",
    'ALLOWED_HOSTS = ["*"]\n',
    "INSTALLED_APPS = [\n    'django.contrib.admin',\n    'proj',\n]\n",
    "\n",
    "\n\n",
    "# Celery\n",
    "# CELERY_WORKER_LOG_COLOR = True  (a comment, not a setting)\n",
    '"""A docstring that says CELERY_WORKER_HIJACK_ROOT_LOGGER = True."""\n',
    "def helper(value):\n    return value * 2\n",
    "def tabbed():\n\treturn 1\n",
    "class Config:\n    name = 'proj'\n\n    def ready(self):\n        pass\n",
    "if DEBUG:\n    INTERNAL_IPS = ['127.0.0.1']\nelse:\n    INTERNAL_IPS = []\n",
    "try:\n    from .local import *  # noqa\nexcept ImportError:\n    pass\n",
    'LOGGING = {\n    "version": 1,\n    "worker_hijack_root_logger": True,\n}\n',
    "TIME_ZONE = 'UTC'; USE_TZ = True\n",
    "x = [\n    1,\n    2,\n]  # trailing comment\n",
    "lambda_ = lambda v: (v,\n    v)\n",
    "STRING = '''multi\nline CELERY_WORKER_LOG_COLOR = 1\n'''\n",
)
_NON_ASCII = ("café", "Zürich", "naïve", "über")  # all encodable as latin-1
_CELERY_DJANGO = (
    'CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://redis:6379/0")\n',
    "CELERY_BROKER_CONNECTION_RETRY = False\n",
    "CELERY_BROKER_CONNECTION_RETRY = True\n",
    "CELERY_BEAT_SCHEDULE = {\n    'nightly': {'task': 't', 'schedule': 60},\n}\n",
    "CELERY_TASK_ALWAYS_EAGER = False\n",
    "CELERY_WORKER_LOG_COLOR = False\n",
    "CELERY_WORKER_LOG_COLOR: bool = False\n",
    'CELERY_WORKER_HIJACK_ROOT_LOGGER = os.environ.get("HIJACK", "") == "1"\n',
    "if DEBUG:\n    CELERY_WORKER_HIJACK_ROOT_LOGGER = False\n",
    "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True\n",
)
_CELERY_PLAIN = (
    'broker_url = "redis://"\n',
    "broker_connection_retry = False\n",
    "worker_log_color = False\n",
    "task_acks_late = True\n",
)


@st.composite
def settings_modules(draw: Draw, plain: bool = False) -> bytes:
    """A settings module (Django, or a plain Celery config module when `plain`), as bytes."""
    settings = _CELERY_PLAIN if plain else _CELERY_DJANGO
    chunks = draw(st.lists(st.sampled_from(_SURROUNDING + settings), max_size=8))
    if draw(st.booleans()):
        chunks.append(str(draw(st.sampled_from(settings))))
    body = "".join(str(chunk) for chunk in chunks)
    latin = draw(st.integers(0, 3)) == 0
    header = ""
    if latin:
        header = draw(
            st.sampled_from(
                (
                    "# -*- coding: latin-1 -*-\n",
                    "#!/usr/bin/env python\n# vim: set fileencoding=iso-8859-1 :\n",
                )
            )
        )
    elif draw(st.booleans()):
        header = '"""Settings."""\n'
    if draw(st.booleans()):
        word = draw(st.sampled_from(_NON_ASCII))
        body = f'NAME = "{word}"  # {word}\n' + body
    text = header + body
    if draw(st.integers(0, 4)) == 0:
        text = text.rstrip("\n")
    if draw(st.integers(0, 3)) == 0:
        text = text.replace("\n", "\r\n")
    if latin:
        return text.encode("latin-1")
    bom = b"\xef\xbb\xbf" if draw(st.integers(0, 6)) == 0 else b""
    return bom + text.encode("utf-8")


@st.composite
def repositories(draw: Draw) -> dict[str, bytes]:
    """A small repository: a compose file, a Celery app and the settings module it reads."""
    files: dict[str, bytes] = {"proj/__init__.py": b""}
    if draw(st.booleans()):
        files["docker-compose.yml"] = draw(compose_files())
    plain = draw(st.integers(0, 3)) == 0
    if plain:
        files["proj/celery.py"] = PLAIN_APP.encode()
        files["proj/celeryconfig.py"] = draw(settings_modules(plain=True))
    else:
        files["proj/celery.py"] = DJANGO_APP.encode()
        files["proj/settings.py"] = draw(settings_modules())
    return files


# --------------------------------------------------------------------------- helpers

REPO_ROOT = Path(__file__).resolve().parents[2]


def write_repo(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write `files` (relpath -> content) below `root`; return `root`."""
    for relpath, content in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every regular file below `root` (symlinks not followed): relpath -> (bytes, mode)."""
    found: dict[str, tuple[bytes, int]] = {}
    for folder, folders, names in os.walk(root):
        folders.sort()
        for name in sorted(names):
            path = Path(folder, name)
            if path.is_symlink() or not path.is_file():
                continue
            try:
                data = path.read_bytes()
            except OSError:
                data = b"<unreadable>"
            found[path.relative_to(root).as_posix()] = (data, path.lstat().st_mode)
    return found


def celeryfix_command() -> list[str]:
    """The installed console script: unlike `python -m`, it never puts the current folder on
    sys.path, so a repository's own modules can never shadow celeryfix's imports."""
    script = Path(sys.executable).with_name("celeryfix")
    assert script.exists(), f"{script} is missing: install the project (pip install -e .)"
    return [str(script)]


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]


def run_celeryfix(
    args: Sequence[str],
    cwd: Path,
    *,
    timeout: float = 60,
    memory_mb: int = 1024,
    env: Mapping[str, str] | None = None,
) -> Ran:
    """`celeryfix <args>` in a subprocess with bounded time and address space (util-linux's
    prlimit, not a preexec_fn: the callers run several at once from threads)."""
    limit = f"--as={memory_mb * 1024 * 1024}"
    done = subprocess.run(
        ["prlimit", limit, "--", *celeryfix_command(), *args],
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )
    return Ran(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
    )


def copy_tree(source: Path, target: Path) -> Path:
    """A copy of a folder that keeps symlinks as links."""
    shutil.copytree(source, target, symlinks=True)
    return target
