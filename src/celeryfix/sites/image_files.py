"""Which repository files a Dockerfile copies into its image, and where they land.

Read statically from the final stage and the stages it derives from: `COPY`/`ADD` of the build
context (not `--from=` another stage, not URLs or heredocs), destinations relative to the
`WORKDIR` in force, `$VAR`/`${VAR}` replaced by the defaults of `ARG`/`ENV`. Enough to match a
compose `command: /start-celeryworker` to the script that `COPY ./compose/.../start
/start-celeryworker` put there.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from celeryfix.dockerfile import Instruction, final_chain

_VARIABLE = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+]([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|\S*)")
_GLOB = re.compile(r"[*?\[]")
# Where a bare program name is looked up ($PATH of the Debian/Alpine python images).
PATH_FOLDERS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


@dataclass(frozen=True)
class Copy:
    """One `COPY`/`ADD` of build-context files into the image."""

    sources: tuple[str, ...]  # repository-relative (context joined), may hold globs
    destination: str  # absolute container path
    into_folder: bool  # the destination is a folder (ends with `/`, or several sources)
    line: int


class ImageFiles:
    """The repository files an image holds, by container path."""

    def __init__(self, dockerfile: str, text: str, context: str, known: Collection[str]) -> None:
        self.dockerfile = dockerfile
        self.context = context
        self._known = known
        self._folders = {posixpath.dirname(path) for path in known}
        self.copies, self.workdir = _read_copies(text, context)

    def _is_file(self, path: str) -> bool:
        return path in self._known

    def _is_folder(self, path: str) -> bool:
        if path == ".":
            return True
        prefix = path + "/"
        return any(folder == path or folder.startswith(prefix) for folder in self._folders)

    def repo_path(self, container_path: str) -> str | None:
        """The repository file that ends up at `container_path`, if a COPY puts one there."""
        target = posixpath.normpath(container_path)
        for copy in reversed(self.copies):  # a later COPY overwrites an earlier one
            found = self._match(copy, target)
            if found is not None:
                return found
        return None

    def _match(self, copy: Copy, target: str) -> str | None:
        for source in copy.sources:
            for path in self._expand(source):
                if self._is_file(path):
                    # `COPY x.sh /usr/local/bin` copies into a folder that exists in the image:
                    # without a trailing slash both readings are possible, so both match.
                    inside = posixpath.join(copy.destination, posixpath.basename(path))
                    if target == inside or (target == copy.destination and not copy.into_folder):
                        return path
                elif self._is_folder(path) and target.startswith(
                    copy.destination.rstrip("/") + "/"
                ):
                    inner = target[len(copy.destination.rstrip("/")) + 1 :]
                    candidate = posixpath.normpath(posixpath.join(path, inner))
                    if self._is_file(candidate):
                        return candidate
        return None

    def _expand(self, source: str) -> Iterator[str]:
        if not _GLOB.search(source):
            yield source
            return
        yield from sorted(path for path in self._known if fnmatch.fnmatchcase(path, source))

    def holds(self, relpath: str) -> bool:
        """Whether some COPY/ADD puts the repository file `relpath` into the image."""
        for copy in self.copies:
            for source in copy.sources:
                if source == "." or relpath == source or relpath.startswith(source + "/"):
                    return True
                if _GLOB.search(source) and fnmatch.fnmatchcase(relpath, source):
                    return True
        return False


def guess_context(dockerfile: str, text: str, known: Collection[str]) -> str:
    """The build context of a Dockerfile no compose file builds: the nearest folder, from the
    Dockerfile's own up to the repository root, in which every source it copies exists."""
    folder = posixpath.dirname(dockerfile) or "."
    candidates = [folder]
    while folder not in ("", "."):
        folder = posixpath.dirname(folder) or "."
        candidates.append(folder)
    folders = {posixpath.dirname(path) for path in known}
    for candidate in candidates:
        copies, _ = _read_copies(text, candidate)
        sources = [s for c in copies for s in c.sources if not _GLOB.search(s)]
        if all(
            s in known or s == "." or any(f == s or f.startswith(s + "/") for f in folders)
            for s in sources
        ):
            return candidate
    return candidates[0]


def _read_copies(text: str, context: str) -> tuple[list[Copy], str]:
    """The COPY/ADD of the final chain, base stage first, and the final WORKDIR."""
    copies: list[Copy] = []
    workdir = "/"
    variables: dict[str, str] = {}
    for stage in reversed(final_chain(text)):
        for instruction in stage.instructions:
            keyword = instruction.keyword
            if keyword in ("ARG", "ENV"):
                variables.update(_assignments(instruction.arguments, variables))
            elif keyword == "WORKDIR":
                path = _substitute(instruction.arguments.strip().strip("\"'"), variables)
                if path is not None:
                    workdir = posixpath.normpath(posixpath.join(workdir, path))
            elif keyword in ("COPY", "ADD"):
                copy = _copy(instruction, context, workdir, variables)
                if copy is not None:
                    copies.append(copy)
    return copies, workdir


def _assignments(arguments: str, variables: dict[str, str]) -> dict[str, str]:
    """`ARG NAME=default`, `ENV NAME=value ...`, legacy `ENV NAME value`."""
    found: dict[str, str] = {}
    pairs = _ASSIGNMENT.findall(arguments)
    if not pairs:
        words = arguments.split(None, 1)
        if len(words) == 2 and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", words[0]):
            pairs = [(words[0], words[1])]
    for name, value in pairs:
        resolved = _substitute(value.strip("\"'"), {**variables, **found})
        if resolved is not None:
            found[name] = resolved
    return found


def _substitute(value: str, variables: dict[str, str]) -> str | None:
    """`value` with its variables replaced; None when one of them is unknown."""
    unknown = False

    def replace(match: re.Match[str]) -> str:
        nonlocal unknown
        name = match.group(1) or match.group(3)
        if name in variables:
            return variables[name]
        if match.group(2) is not None and "-" in match.group(0):
            return match.group(2)  # ${NAME:-default}
        unknown = True
        return ""

    result = _VARIABLE.sub(replace, value)
    return None if unknown else result


def _copy(
    instruction: Instruction, context: str, workdir: str, variables: dict[str, str]
) -> Copy | None:
    words = _copy_words(instruction.arguments)
    if words is None:
        return None
    options = [w for w in words if w.startswith("--")]
    paths = [w for w in words if not w.startswith("--")]
    if any(o.startswith(("--from", "--parents")) for o in options) or len(paths) < 2:
        return None
    resolved = [_substitute(path, variables) for path in paths]
    if any(path is None or "://" in path or path.startswith("<<") for path in resolved):
        return None
    *sources, destination = [path for path in resolved if path is not None]
    into_folder = destination.endswith("/") or len(sources) > 1
    destination = posixpath.normpath(posixpath.join(workdir, destination))
    joined = tuple(
        posixpath.normpath(posixpath.join(context, source.lstrip("/"))) for source in sources
    )
    if any(path == ".." or path.startswith("../") for path in joined):
        return None
    return Copy(joined, destination, into_folder, instruction.line)


def _copy_words(arguments: str) -> list[str] | None:
    """The words of a COPY/ADD, in shell-like form or JSON form (options stay in front)."""
    options: list[str] = []
    rest = arguments.strip()
    while rest.startswith("--"):
        option, _, rest = rest.partition(" ")
        options.append(option)
        rest = rest.strip()
    if rest.startswith("["):
        try:
            items = json.loads(rest)
        except ValueError:
            return None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            return None
        return options + items
    return options + rest.split()
