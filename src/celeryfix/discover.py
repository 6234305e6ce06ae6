"""Walk a repository once and sort its files by kind.

Skips version-control and tool folders, virtual environments, what `.gitignore` excludes and the
`exclude` globs of the configuration. Never follows a directory symlink, and never lists a
symlinked file: the file it points to is listed where it lives, if it lives in the repository.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

SKIPPED_FOLDERS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        "site-packages",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        "build",
        "dist",
    }
)
_COMPOSE = re.compile(r"^(docker-)?compose([.-][\w.-]+)?\.ya?ml$", re.IGNORECASE)
_DOCKERFILE = re.compile(r"^(Dockerfile([.-][\w.-]+)?|[\w.-]+\.[Dd]ockerfile)$")


@dataclass
class RepoFiles:
    """The candidate files of one repository, as repository-relative posix paths."""

    root: Path
    compose: list[str] = field(default_factory=list)
    python: list[str] = field(default_factory=list)
    dockerfiles: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)  # every other regular file (scripts, ...)


def is_compose_name(name: str) -> bool:
    """docker-compose*.yml/yaml and compose*.yml/yaml."""
    return bool(_COMPOSE.match(name))


def is_dockerfile_name(name: str) -> bool:
    return bool(_DOCKERFILE.match(name))


def _gitignore(folder: Path) -> pathspec.GitIgnoreSpec | None:
    try:
        lines = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return pathspec.GitIgnoreSpec.from_lines(lines)


def _ignored(
    relpath: str, is_dir: bool, specs: Sequence[tuple[str, pathspec.GitIgnoreSpec]]
) -> bool:
    # As git does: the last pattern that matches the path itself decides, and a deeper
    # .gitignore comes later, so a nested `!keep.log` re-includes what the root's `*.log`
    # excludes. What is inside an excluded folder is never reached: the walk does not enter it.
    ignored = False
    for base, spec in specs:
        inner = relpath[len(base) + 1 :] if base else relpath
        candidate = inner + "/" if is_dir else inner
        for pattern in spec.patterns:
            if pattern.include is not None and _matches_itself(pattern, candidate):
                ignored = pattern.include
    return ignored


def _matches_itself(pattern: pathspec.Pattern, path: str) -> bool:
    """The pattern matches `path` itself (a folder ends with "/"), not only a folder above it.

    pathspec's patterns also match everything below a matching folder (the `ps_d` group marks
    that folder's slash); git's do not: with `*` then `!*/`, `a/b.txt` stays excluded by `*`
    although `!*/` re-includes `a/`. And `tmp/**` matches what is inside `tmp/`, never the
    folder itself, so a later `!*.py` can bring back `tmp/x.py`.
    """
    regex = pattern.regex if isinstance(pattern, pathspec.RegexPattern) else None
    if regex is None:
        return pattern.match_file(path) is not None
    position = 0
    while (match := regex.search(path, position)) is not None:
        if match.groupdict().get("ps_d") is not None:
            if match.end("ps_d") == len(path):
                return True
        elif not path.endswith("/") or match.end() < len(path):
            return True
        position = match.start() + 1
    return False


def _excluded(relpath: str, patterns: Sequence[str]) -> bool:
    """A glob matches the relative path (or a folder above it); one without a slash, such as
    `migrations` or `*.bak.yml`, matches that name at any depth, as ruff's `exclude` does."""
    name = relpath.rsplit("/", 1)[-1]
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        bare = pattern.removeprefix("**/")
        if "/" not in bare and fnmatch.fnmatchcase(name, bare):
            return True
        if fnmatch.fnmatchcase(relpath, pattern) or fnmatch.fnmatchcase(relpath, pattern + "/*"):
            return True
    return False


def walk(root: Path, exclude: Sequence[str] = ()) -> Iterator[str]:
    """Every regular, non-symlinked file below `root` that is not skipped, sorted per folder."""
    stack: list[tuple[Path, str, list[tuple[str, pathspec.GitIgnoreSpec]]]] = [(root, "", [])]
    while stack:
        folder, relfolder, specs = stack.pop()
        spec = _gitignore(folder)
        if spec is not None:
            specs = [*specs, (relfolder, spec)]
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue  # unreadable folder: nothing of it can be planned, so nothing is written
        subfolders = []
        for entry in entries:
            relpath = f"{relfolder}/{entry.name}" if relfolder else entry.name
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name in SKIPPED_FOLDERS or (Path(entry.path) / "pyvenv.cfg").exists():
                    continue
                if _ignored(relpath, True, specs) or _excluded(relpath, exclude):
                    continue
                subfolders.append((Path(entry.path), relpath, specs))
            elif (
                entry.is_file(follow_symlinks=False)
                and not _ignored(relpath, False, specs)
                and not _excluded(relpath, exclude)
            ):
                yield relpath
        stack.extend(reversed(subfolders))


def discover(root: Path, exclude: Sequence[str] = ()) -> RepoFiles:
    """The candidate files of the repository at `root`, sorted by kind."""
    files = RepoFiles(root)
    for relpath in walk(root, exclude):
        name = relpath.rsplit("/", 1)[-1]
        if is_compose_name(name):
            files.compose.append(relpath)
        elif name.endswith(".py"):
            files.python.append(relpath)
        elif is_dockerfile_name(name):
            files.dockerfiles.append(relpath)
        else:
            files.other.append(relpath)
    return files
