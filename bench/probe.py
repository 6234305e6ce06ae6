"""Run a program and count what it does: files opened under a folder, parses, imports.

    python bench/probe.py --under CORPUS --result OUT.json -- -m celeryfix apply --check ...
    python bench/probe.py --under CORPUS --result OUT.json -- bench/drivers.py parse-all ...

Files opened are seen by the "open" audit event (PEP 578), which every `open()`,
`Path.read_bytes()` and `io.open` raises, also for a file that does not exist (counted apart).
Parses are counted by wrapping `ast.parse` and libcst's `parse_module`/`parse_statement`/
`parse_expression` when `libcst._parser.entrypoints` is first imported, so the probe itself
imports no libcst: whether the program imports it is part of the report. Only the main process
is seen: run programs with one job. The benchmark times other runs, without the probe.
"""

from __future__ import annotations

import ast
import functools
import importlib.abc
import importlib.machinery
import json
import os
import runpy
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

_LIBCST_ENTRYPOINTS = "libcst._parser.entrypoints"
_LIBCST_PARSERS = ("parse_module", "parse_statement", "parse_expression")
_WATCHED_MODULES = ("libcst", "rich", "ruamel.yaml", "typer", "pathspec")


class Probe:
    def __init__(self, under: str) -> None:
        self.under = os.path.realpath(under) + os.sep
        self.opened: Counter[str] = Counter()
        self.missing: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event != "open" or not args:
            return
        path = args[0]
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if isinstance(path, str):
            path = os.path.realpath(path)
            if path.startswith(self.under):
                if os.path.isfile(path):
                    self.opened[path] += 1
                else:
                    self.missing[path] += 1

    def counting(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            kind = label
            if label == "ast.parse":
                # literal_eval and friends parse one expression: not a file.
                mode = kwargs.get("mode", args[2] if len(args) > 2 else "exec")
                kind = "ast.parse (module)" if mode == "exec" else f"ast.parse ({mode})"
            self.calls[kind] += 1
            return function(*args, **kwargs)

        return wrapper

    def patch_libcst(self, module: ModuleType) -> None:
        for name in _LIBCST_PARSERS:
            setattr(module, name, self.counting(f"libcst.{name}", getattr(module, name)))

    def report(self, exit_code: int) -> dict[str, Any]:
        kinds: Counter[str] = Counter()
        for path in self.opened:
            name = path.rsplit(os.sep, 1)[-1]
            kinds[name.rsplit(".", 1)[-1] if "." in name.lstrip(".") else name] += 1
        return {
            "exit_code": exit_code,
            "opens": sum(self.opened.values()),
            "files_opened": len(self.opened),
            "opened_by_kind": dict(kinds.most_common()),
            "missing_opened": len(self.missing),  # tries on files that are not there
            "parse_calls": dict(sorted(self.calls.items())),
            "imported": [m for m in _WATCHED_MODULES if m in sys.modules],
        }


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Finds `name` with the other finders, and calls `patch` once the module has run."""

    def __init__(self, name: str, patch: Callable[[ModuleType], None]) -> None:
        self.name = name
        self.patch = patch

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                _patch_after_exec(spec.loader, self.patch)
                return spec
        return None


def _patch_after_exec(loader: importlib.abc.Loader, patch: Callable[[ModuleType], None]) -> None:
    run = loader.exec_module

    def exec_module(module: ModuleType) -> None:
        run(module)
        patch(module)

    loader.exec_module = exec_module  # type: ignore[method-assign]


def main() -> int:
    argv = sys.argv[1:]
    split = argv.index("--")
    options, program = argv[:split], argv[split + 1 :]
    under = options[options.index("--under") + 1]
    result = Path(options[options.index("--result") + 1])
    probe = Probe(under)
    sys.addaudithook(probe.audit)
    ast.parse = probe.counting("ast.parse", ast.parse)
    sys.meta_path.insert(0, _PatchAfterImport(_LIBCST_ENTRYPOINTS, probe.patch_libcst))
    exit_code = 0
    try:
        if program[0] == "-m":
            sys.argv = [program[1], *program[2:]]
            runpy.run_module(program[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = program
            sys.path.insert(0, str(Path(program[0]).resolve().parent))
            runpy.run_path(program[0], run_name="__main__")
    except SystemExit as stop:
        exit_code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    result.write_text(json.dumps(probe.report(exit_code)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
