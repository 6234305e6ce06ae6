"""The pipeline for one repository: discover -> parse -> rules -> edits -> (verify) -> result.

Pure planning: nothing here writes. A repository is planned all or nothing: any file that matters
and cannot be read or parsed makes the whole repository an error, and nothing of it is written.
"""

from __future__ import annotations

import os
import re
import stat
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from celeryfix.compose.plan import ComposeError, ComposePlan, plan_compose
from celeryfix.config import ConfigError, Options
from celeryfix.discover import RepoFiles, discover, is_compose_name, is_dockerfile_name
from celeryfix.edits import EditConflict, apply_edits
from celeryfix.models import Edit, Note, NoteKind
from celeryfix.pysettings import SettingsHints, SettingsSyntaxError, WantedSetting, plan_settings
from celeryfix.rules import rule_modules
from celeryfix.sites import site_planners
from celeryfix.textfile import TextFile, UndecodableFile, decode
from celeryfix.verify import VerificationError, verify_python, verify_shell, verify_yaml

_FILELESS_SCHEDULER = re.compile(
    r"beat_scheduler['\"]?\s*[:=]\s*[^\n]*(DatabaseScheduler|RedBeat|redbeat)", re.IGNORECASE
)


class RepositoryError(Exception):
    """One line: path:line: what is wrong."""


@dataclass(frozen=True)
class FileChange:
    file: TextFile
    new_text: str
    rules: tuple[str, ...]

    @property
    def relpath(self) -> str:
        return self.file.relpath


@dataclass
class RepoResult:
    root: Path
    label: str  # the root as the user named it
    changes: list[FileChange] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    error: str | None = None
    only: str | None = None  # when the user named a file: only that file may change


MAX_FILE_BYTES = 64 * 1024 * 1024  # far above any config or settings file celeryfix reads


def _read_regular(path: Path) -> bytes:
    """A regular file's bytes: never through a symlink, never a FIFO or device (which could
    block or never end), never more than MAX_FILE_BYTES."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    descriptor = os.open(path, flags)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise OSError(0, "not a regular file")
        if status.st_size > MAX_FILE_BYTES:
            raise OSError(0, f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        with os.fdopen(descriptor, "rb", closefd=False) as stream:
            return stream.read(MAX_FILE_BYTES + 1)
    finally:
        os.close(descriptor)


def read_file(root: Path, relpath: str, *, python: bool = False) -> TextFile:
    path = root / relpath
    try:
        raw = _read_regular(path)
    except OSError as error:
        raise RepositoryError(f"{path}: cannot read: {error.strerror or error}") from None
    try:
        return decode(path, relpath, raw, python=python)
    except UndecodableFile as error:
        raise RepositoryError(f"{path}: {error}") from None


class RepoContext:
    """What every planner may ask of the repository: its files, each read once."""

    def __init__(self, root: Path, files: RepoFiles) -> None:
        self.root = root
        self.files = files
        self._read: dict[str, TextFile] = {}
        self.compose: ComposePlan = ComposePlan()
        self.python: dict[str, TextFile] = {}
        self.notes: list[Note] = []

    def read(self, relpath: str, *, python: bool = False) -> TextFile:
        """The file, decoded (cached); RepositoryError when it cannot be read as text."""
        if relpath not in self._read:
            self._read[relpath] = read_file(self.root, relpath, python=python)
        return self._read[relpath]

    def read_text(self, relpath: str) -> str | None:
        """The file's text, or None when it is missing or not text."""
        try:
            return self.read(relpath).text
        except RepositoryError:
            return None

    @property
    def fileless_scheduler(self) -> bool:
        """The settings choose a beat scheduler that keeps no schedule file."""
        return any(_FILELESS_SCHEDULER.search(f.text) for f in self.python.values())

    def read_python(self) -> None:
        for relpath in self.files.python:
            try:
                self.python[relpath] = self.read(relpath, python=True)
            except RepositoryError as error:
                self.notes.append(Note(relpath, 1, "-", NoteKind.SKIP, f"not read: {error}"))


def plan_repository(root: Path, options: Options, label: str | None = None) -> RepoResult:
    """Every change celeryfix would make to the repository at `root` (nothing is written)."""
    result = RepoResult(root, label or str(root))
    try:
        _plan(root, options, result)
    except (RepositoryError, ConfigError) as error:
        result.changes, result.error = [], str(error)  # these name the full path already
    except (ComposeError, EditConflict, VerificationError, SettingsSyntaxError) as error:
        result.changes, result.error = [], f"{result.label}: {error}"
    except RecursionError:
        result.changes, result.error = [], f"{result.label}: a file nests too deeply to be read"
    except MemoryError:
        result.changes, result.error = [], f"{result.label}: a file is too large to be read"
    except Exception as error:  # a bug must cost one repository one line, never a bulk run
        kind = type(error).__name__
        result.changes, result.error = (
            [],
            f"{result.label}: internal error ({kind}: {error}); nothing written, please report it",
        )
    return result


def _plan(root: Path, options: Options, result: RepoResult) -> None:
    context = RepoContext(root, discover(root, options.exclude))
    context.read_python()
    edits = _plan_compose(context, options)
    app_names = list(context.compose.app_names)
    for site in site_planners():
        site_plan = site(context, options)
        edits += site_plan.edits
        context.notes += site_plan.notes
        app_names += site_plan.app_names
    edits += _plan_settings(context, options, app_names)
    result.notes = context.notes
    by_file: dict[str, list[Edit]] = defaultdict(list)
    for edit in edits:
        by_file[edit.path].append(edit)
    for relpath in sorted(by_file):
        file = context.read(relpath)
        new_text = apply_edits(file.text, by_file[relpath])
        verify(file, new_text, by_file[relpath])
        if new_text != file.text:
            rules = tuple(sorted({r for e in by_file[relpath] for r in e.rule.split("+")}))
            result.changes.append(FileChange(file, new_text, rules))
    result.notes.sort()


def _plan_compose(context: RepoContext, options: Options) -> list[Edit]:
    """CF101/CF102 edits; the compose files are read for the settings hints in any case."""
    if not context.files.compose:
        return []
    enabled = any(options.is_enabled(r) for r in ("CF101", "CF102"))
    try:
        compose = {relpath: context.read(relpath) for relpath in context.files.compose}
        context.compose = plan_compose(
            compose, context.read_text, options, context.fileless_scheduler
        )
    except (RepositoryError, ComposeError):
        if enabled:
            raise
        return []  # only the settings rules run: a broken compose file costs only its hints
    context.notes += context.compose.notes
    return list(context.compose.edits)


def _plan_settings(context: RepoContext, options: Options, app_names: list[str]) -> list[Edit]:
    wanted = _wanted_settings(options)
    if not wanted or not context.python:
        return []
    compose = context.compose
    settings_plan = plan_settings(
        {relpath: file.text for relpath, file in context.python.items()},
        wanted,
        SettingsHints(
            tuple(dict.fromkeys(app_names)),
            tuple(dict.fromkeys(compose.settings_modules)),
            tuple(dict.fromkeys(compose.source_roots)),
        ),
    )
    context.notes += settings_plan.notes
    return list(settings_plan.edits)


def verify(file: TextFile, new_text: str, edits: list[Edit]) -> None:
    """Re-parse the planned text: it must be the old one plus the intended change only."""
    if file.encode(file.text) != file.raw:
        raise RepositoryError(
            f"{file.path}: does not survive decoding and encoding unchanged; left alone"
        )
    rules = "+".join(sorted({rule for edit in edits for rule in edit.rule.split("+")}))
    try:
        if file.relpath.endswith(".py"):
            verify_python(file.relpath, file.text, new_text, edits)
        elif is_compose_name(file.relpath.rsplit("/", 1)[-1]):
            verify_yaml(file.relpath, file.text, new_text, edits)
        elif is_dockerfile_name(file.relpath.rsplit("/", 1)[-1]) or any(
            "CF103" in edit.rule.split("+") for edit in edits
        ):
            verify_shell(file.relpath, file.text, new_text, edits)
    except VerificationError as error:
        raise VerificationError(
            f"{error} (rule {rules}; internal check, nothing written)"
        ) from None


def _wanted_settings(options: Options) -> list[WantedSetting]:
    """The settings that the enabled settings rules (CF2xx) want present."""
    wanted = [getattr(module, "WANTED", None) for module in rule_modules()]
    return sorted(
        (w for w in wanted if w is not None and options.is_enabled(w.rule)), key=lambda w: w.rule
    )
