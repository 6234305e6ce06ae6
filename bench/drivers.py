"""The programs the benchmark times, each run in a fresh interpreter by bench/run.py.

- `libcst-runner`: libcst's own codemod runner (`parallel_exec_transform_with_prettyprint`)
  hand-fed the settings files, with a trivial codemod that appends the three CELERY_ settings
  it lacks: the baseline of issue 2 ("Speed from the start").
- `parse-all`: walk the repositories as a hand-written script would (prune the same noise
  folders) and parse every Python file with libcst: what the cheap text check saves.
- `plan-inprocess` / `libcst-inprocess`: the planning function `celeryfix.run.plan_path`, and
  the baseline's transform, timed inside the process (no interpreter start, imports timed
  apart) and, with `--trace`, their peak Python heap by tracemalloc.

Each writes a JSON object to `--result` (counts, and in-process times).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from celeryfix.discover import SKIPPED_FOLDERS

# The folders celeryfix's walk skips by name: the naive baseline prunes the same ones.
PRUNED = SKIPPED_FOLDERS


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


def libcst_runner(files: Sequence[str], jobs: int) -> dict[str, Any]:
    """libcst's runner in diff mode: it prints diffs (to stdout) and writes nothing."""
    from baseline_codemod import AddCelerySettings
    from libcst.codemod import parallel_exec_transform_with_prettyprint

    result = parallel_exec_transform_with_prettyprint(
        AddCelerySettings,
        files,
        jobs=jobs,
        unified_diff=3,
        hide_progress=True,
        hide_generated=True,
        hide_blacklisted=True,
    )
    return {
        "files": len(files),
        "successes": result.successes,
        "failures": result.failures,
        "skips": result.skips,
    }


def python_files(roots: Sequence[str]) -> list[str]:
    """Every .py file below the roots, noise folders and virtual environments pruned."""
    found: list[str] = []
    for root in roots:
        for folder, subfolders, names in os.walk(root):
            subfolders[:] = [
                name
                for name in subfolders
                if name not in PRUNED
                and not os.path.exists(os.path.join(folder, name, "pyvenv.cfg"))
            ]
            found += [os.path.join(folder, name) for name in names if name.endswith(".py")]
    return found


def parse_all(roots: Sequence[str]) -> dict[str, Any]:
    """Read and libcst-parse every Python file of the repositories."""
    import libcst as cst

    parsed = failed = 0
    for path in python_files(roots):
        with open(path, "rb") as stream:
            source = stream.read()
        try:
            cst.parse_module(source)
            parsed += 1
        except cst.ParserSyntaxError:
            failed += 1
    return {"parsed": parsed, "failed": failed}


def _timed(work: Callable[[], dict[str, Any]], trace: bool) -> dict[str, Any]:
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    outcome = work()
    outcome["seconds"] = time.perf_counter() - start
    if trace:
        outcome["traced_peak_bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return outcome


def plan_inprocess(roots: Sequence[str], trace: bool) -> dict[str, Any]:
    """`celeryfix.run.plan_path` over every root, as `celeryfix apply --check` calls it."""
    start = time.perf_counter()
    from celeryfix.run import plan_path

    imported = time.perf_counter() - start
    # The options `celeryfix apply` passes when no option is given (src/celeryfix/cli.py).
    cli_options: dict[str, Any] = {
        "select": [],
        "ignore": [],
        "uid": None,
        "gid": None,
        "schedule": None,
    }

    def work() -> dict[str, Any]:
        results = [plan_path(root, cli_options) for root in roots]
        return {
            "changes": sum(len(result.changes) for result in results),
            "errors": [result.error for result in results if result.error],
        }

    if trace and roots:
        # Plan the first repository once untraced: the modules celeryfix imports lazily (libcst)
        # would otherwise count as planning memory, while the libcst twin imports them first.
        plan_path(roots[0], cli_options)
    return {"import_seconds": imported, **_timed(work, trace)}


def libcst_inprocess(files: Sequence[str], trace: bool) -> dict[str, Any]:
    """The baseline's read + parse + transform + render of each settings file, in-process."""
    from baseline_codemod import AddCelerySettings
    from libcst.codemod import CodemodContext, TransformSuccess, transform_module

    def work() -> dict[str, Any]:
        changed = 0
        for path in files:
            with open(path, encoding="utf-8") as stream:
                code = stream.read()
            result = transform_module(AddCelerySettings(CodemodContext(filename=path)), code)
            changed += isinstance(result, TransformSuccess) and result.code != code
        return {"changes": changed}

    return _timed(work, trace)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "mode", choices=("libcst-runner", "parse-all", "plan-inprocess", "libcst-inprocess")
    )
    parser.add_argument("--list", type=Path, required=True, help="file of paths, one a line")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--trace", action="store_true", help="tracemalloc peak (in-process)")
    parser.add_argument("--result", type=Path)
    args = parser.parse_args(argv)
    paths = _lines(args.list)
    if args.mode == "libcst-runner":
        outcome = libcst_runner(paths, args.jobs)
    elif args.mode == "parse-all":
        outcome = parse_all(paths)
    elif args.mode == "plan-inprocess":
        outcome = plan_inprocess(paths, args.trace)
    else:
        outcome = libcst_inprocess(paths, args.trace)
    if args.result is not None:
        args.result.write_text(json.dumps(outcome), encoding="utf-8")
    return 1 if outcome.get("failures") or outcome.get("failed") or outcome.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
