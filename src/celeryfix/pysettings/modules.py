"""Dotted module names to repository files, the way `sys.path` roots would find them."""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable


def normalize_root(root: str) -> str:
    """A repository-relative folder as a posix path without `./` or slashes around ("" = root)."""
    parts = [part for part in root.replace("\\", "/").split("/") if part not in ("", ".")]
    return "/".join(parts)


def join(folder: str, relpath: str) -> str:
    """`relpath` inside `folder` ("" is the repository root)."""
    return f"{folder}/{relpath}" if folder else relpath


def folder_of(path: str) -> str:
    """The folder holding `path` ("" for a file at the repository root)."""
    return posixpath.dirname(path)


def ancestors(path: str) -> list[str]:
    """The folders holding `path`, deepest first, ending with the repository root ""."""
    found: list[str] = []
    folder = folder_of(path)
    while folder:
        found.append(folder)
        folder = folder_of(folder)
    found.append("")
    return found


class ModuleResolver:
    """Finds the file of a module among the repository's Python files."""

    def __init__(self, paths: Iterable[str], roots: Iterable[str]) -> None:
        self._paths = frozenset(paths)
        self.roots = tuple(dict.fromkeys(normalize_root(root) for root in roots))

    def __contains__(self, path: object) -> bool:
        return path in self._paths

    def module_file(self, root: str, dotted: str) -> str | None:
        """The file of module `dotted` under `root`: `a/b.py` or `a/b/__init__.py`."""
        if not dotted or not all(part.isidentifier() for part in dotted.split(".")):
            return None
        stem = join(root, dotted.replace(".", "/"))
        for candidate in (f"{stem}.py", f"{stem}/__init__.py"):
            if candidate in self._paths:
                return candidate
        return None

    def is_package_folder(self, folder: str) -> bool:
        return join(folder, "__init__.py") in self._paths

    def roots_for(self, near: str | None, *, anywhere: bool = True) -> list[str]:
        """Where to look for a module imported from `near`.

        First the folders above `near` that can be on `sys.path` (not inside a package),
        deepest first; then, if `anywhere`, the other known roots.
        """
        order: list[str] = []
        if near is not None:
            for folder in ancestors(near):
                if folder in self.roots or not self.is_package_folder(folder):
                    order.append(folder)
        if anywhere or near is None:
            order.extend(root for root in self.roots if root not in order)
        return order

    def resolve(self, dotted: str, near: str | None, *, anywhere: bool = True) -> str | None:
        """The file of absolute module `dotted` imported from file `near`, or None."""
        for root in self.roots_for(near, anywhere=anywhere):
            found = self.module_file(root, dotted)
            if found is not None:
                return found
        return None

    def resolve_relative(self, importer: str, level: int, dotted: str | None) -> str | None:
        """The file of `from <level dots><dotted> import ...` written in file `importer`."""
        package = folder_of(importer)
        for _ in range(level - 1):
            if not package:
                return None
            package = folder_of(package)
        if not dotted:
            init = join(package, "__init__.py")
            return init if init in self._paths else None
        return self.module_file(package, dotted)

    def top_level_known(self, dotted: str, near: str | None) -> bool:
        """Whether the first package of `dotted` exists in the repository where `near` looks."""
        top = dotted.split(".")[0]
        for root in self.roots_for(near):
            stem = join(root, top)
            if f"{stem}.py" in self._paths or any(
                path.startswith(f"{stem}/") for path in self._paths
            ):
                return True
        return False

    def glob(self, folder: str, pattern: str) -> list[str]:
        """Repository files matching a django-split-settings `include()` pattern, sorted."""
        full = posixpath.normpath(join(folder, pattern))
        if full.startswith("../") or full == "..":
            return []
        if not any(char in pattern for char in "*?["):
            return [full] if full in self._paths else []
        return sorted(
            path
            for path in self._paths
            if path.count("/") == full.count("/") and fnmatch.fnmatchcase(path, full)
        )
