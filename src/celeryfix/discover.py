"""Walk a repository once and sort its files by kind.

Skips version-control and tool folders, virtual environments, what `.gitignore` excludes and the
`exclude` globs of the configuration. Never follows a directory symlink, and never lists a
symlinked file: the file it points to is listed where it lives, if it lives in the repository.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import warnings
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
# `#!/bin/sh`, `#!/usr/bin/env bash`, `#!/bin/bash -e`, s6-overlay's `#!/command/with-contenv sh`.
_SHELL_SHEBANG = re.compile(
    rb"#![ \t]*(\S*/)?((env|with-contenv)[ \t]+(-\S*[ \t]+)*(\S*/)?)?(ba|da|a|z|k|mk)?sh([ \t\r\n]|$)"
)
_SHEBANG_BYTES = 128
_GITIGNORE_BYTES = 4 * 1024 * 1024  # far above any real .gitignore; bounds what a hostile one costs


@dataclass
class RepoFiles:
    """The candidate files of one repository, as repository-relative posix paths."""

    root: Path
    compose: list[str] = field(default_factory=list)
    python: list[str] = field(default_factory=list)
    dockerfiles: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)  # every other regular file (scripts, ...)
    scripts: list[str] = field(default_factory=list)  # those of `other` that are shell scripts


def is_compose_name(name: str) -> bool:
    """docker-compose*.yml/yaml and compose*.yml/yaml."""
    return bool(_COMPOSE.match(name))


def is_dockerfile_name(name: str) -> bool:
    return bool(_DOCKERFILE.match(name))


def has_shell_shebang(head: bytes) -> bool:
    """The first bytes of a file name a POSIX-like shell as its interpreter."""
    return bool(_SHELL_SHEBANG.match(head))


def _is_shell_script(path: Path, name: str) -> bool:
    """`*.sh`, or a file without an extension whose shebang names a shell (first bytes only)."""
    if name.endswith(".sh"):
        return True
    if "." in name:
        return False
    try:
        with path.open("rb") as stream:
            return has_shell_shebang(stream.read(_SHEBANG_BYTES))
    except OSError:
        return False


def _gitignore(folder: Path) -> pathspec.GitIgnoreSpec | None:
    """The folder's .gitignore: a regular file only, as git reads it.

    A symlinked .gitignore is not followed (git >= 2.32 refuses it too, and it may point at
    /dev/zero); a FIFO or device is not read (opened without blocking, then checked); only the
    first bytes of a huge one are read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(folder / ".gitignore", flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        data = os.read(descriptor, _GITIGNORE_BYTES)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    return _gitignore_spec(data.decode("utf-8", errors="replace").splitlines())


def _gitignore_spec(lines: list[str]) -> pathspec.GitIgnoreSpec:
    # A pattern pathspec cannot read (a lone `\`, `[z-a]`) never matches in git: it is dropped,
    # and the regex module's warnings about odd sets (`[[`) are not the user's business.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pathspec.GitIgnoreSpec.from_lines(lines)
        except (ValueError, re.error):
            return pathspec.GitIgnoreSpec.from_lines([line for line in lines if _readable(line)])


def _readable(pattern: str) -> bool:
    try:
        pathspec.GitIgnoreSpec.from_lines([pattern])
    except (ValueError, re.error):
        return False
    return True


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


def _is_virtualenv(folder: str) -> bool:
    # os.path, not Path.exists: a folder the user may not enter is no error (Path raises).
    return os.path.exists(os.path.join(folder, "pyvenv.cfg"))


def walk(root: Path, exclude: Sequence[str] = ()) -> Iterator[str]:
    """Every regular, non-symlinked file below `root` that is not skipped, sorted per folder."""
    stack: list[tuple[Path, str, list[tuple[str, pathspec.GitIgnoreSpec]]]] = [(root, "", [])]
    while stack:
        folder, relfolder, specs = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
        except OSError:
            continue  # unreadable folder: nothing of it can be planned, so nothing is written
        if any(entry.name == ".gitignore" for entry in entries):  # no open() per folder
            spec = _gitignore(folder)
            if spec is not None:
                specs = [*specs, (relfolder, spec)]
        subfolders = []
        for entry in entries:
            relpath = f"{relfolder}/{entry.name}" if relfolder else entry.name
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name in SKIPPED_FOLDERS or _is_virtualenv(entry.path):
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
            if _is_shell_script(root / relpath, name):
                files.scripts.append(relpath)
    return files
