"""Which words of a command start a script, and which repository file a written path names.

A word is started when the shared launcher walk (celeryfix.invocations) reaches it as the
program (`/start`, `exec /start`, `tini -- /entrypoint`, `gosu app /start`), when it is the
script operand of a shell (`bash docker/entrypoint.sh worker`) or of `.`/`source`, and inside
`sh -c` scripts. Paths map to repository files through the image's COPY/ADD (container paths,
$PATH lookups of bare names) or relative to the folders the runner sees (a bind mount).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from celeryfix.invocations import CeleryInvocation, NestedScript, analyze_argv, shell_options
from celeryfix.shellwords import parse_script
from celeryfix.sites.image_files import PATH_FOLDERS, ImageFiles

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"})
MAX_CHAIN = 8  # scripts starting scripts, `sh -c` in `sh -c`; deeper is not followed


class PathResolver:
    """How the paths one runner writes map to repository files."""

    def __init__(
        self,
        image: ImageFiles | None,
        workdir: str | None,
        folders: tuple[str, ...],
        known: frozenset[str],
    ) -> None:
        self.image, self.workdir, self.known = image, workdir, known
        self.folders = tuple(dict.fromkeys(folders))

    def with_folder(self, folder: str) -> PathResolver:
        """The same, where relative paths may also be relative to `folder` (a script's own)."""
        return PathResolver(self.image, self.workdir, (*self.folders, folder), self.known)

    def resolve(self, word: str, operand: bool) -> str | None:
        """The repository file that `word` runs (a program, or a shell's script operand)."""
        if not word or word.startswith(("-", "~")) or any(c in word for c in "$`*?="):
            return None
        if "/" not in word and not operand:  # a bare program name is looked up in $PATH
            paths = [posixpath.join(folder, word) for folder in PATH_FOLDERS]
            return next(filter(None, map(self._in_image, paths)), None)
        if word.startswith("/"):
            found = self._in_image(word)
            if found is None and self.workdir and word.startswith(self.workdir.rstrip("/") + "/"):
                found = self._in_folders(word[len(self.workdir.rstrip("/")) + 1 :])  # bind mount
            return found
        if self.workdir:
            found = self._in_image(posixpath.join(self.workdir, word))
            if found is not None:
                return found
        return self._in_folders(word)

    def _in_image(self, path: str) -> str | None:
        return self.image.repo_path(path) if self.image is not None else None

    def _in_folders(self, relative: str) -> str | None:
        for folder in self.folders:
            candidate = posixpath.normpath(posixpath.join(folder, relative))
            if candidate in self.known:
                return candidate
        return None


def executed_paths(
    argv: list[str], drops: str | None = None, depth: int = 0
) -> Iterator[tuple[str, bool, str | None]]:
    """(word, is a shell's script operand, launcher that switched user) for every word that the
    command runs as a program, through launchers (`exec`, `tini --`, `gosu app`) and `sh -c`."""
    for index in range(len(argv)):
        # An option is never the program (and the probe below would read `--` as one).
        reached = None if argv[index].startswith("-") else _program_at(argv, index)
        if reached is None:
            continue
        switched = reached or drops
        yield argv[index], False, switched
        name = argv[index].rstrip("/").rsplit("/", 1)[-1]
        operand = _shell_operand(argv, index) if name in SHELLS else None
        if name in (".", "source") and index + 1 < len(argv):
            operand = index + 1
        if operand is not None:
            yield argv[operand], True, switched
    if depth >= MAX_CHAIN:
        return
    for item in analyze_argv(argv):
        if isinstance(item, NestedScript) and item.kind == "script":
            script = argv[item.token_index][item.value_offset :]
            for command in parse_script(script):
                yield from executed_paths(command.argv, item.drops_privileges or drops, depth + 1)


def _program_at(argv: list[str], index: int) -> str | None:
    """Whether argv[index] is the program the command runs: None when it is an argument, else
    the launcher before it that switches user, or "". Asked of the shared launcher walk by
    putting a `celery worker` there and looking where the walk finds it."""
    probe = analyze_argv([*argv[:index], "celery", "worker"])
    if probe and isinstance(probe[0], CeleryInvocation) and probe[0].program_index == index:
        return probe[0].drops_privileges or ""
    return None


def _shell_operand(argv: list[str], index: int) -> int | None:
    """The index of the script file of `sh [options] FILE [args]` (None for -c, -s, stdin)."""
    options = shell_options(argv, index)
    if options.reads_string or options.reads_stdin or options.operands >= len(argv):
        return None
    return options.operands
