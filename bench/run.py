"""`make bench`: celeryfix against libcst's own codemod runner, on the same corpus, in one run.

    .venv/bin/python bench/run.py            # 200 repositories of ~150 files
    .venv/bin/python bench/run.py --quick    # 20 repositories, one round, no parse-all run
    .venv/bin/python bench/run.py --json     # also write bench/results.json
    .venv/bin/python bench/run.py --trace    # also tracemalloc peaks (slow)

Every program runs in a fresh interpreter, timed from spawn to exit (os.wait4 gives its CPU time
and peak RSS), several rounds interleaved; the table shows medians and ratios, never pass/fail
verdicts. See bench/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from corpus import CorpusSpec, Manifest, default_root, generate  # noqa: E402

PYTHON = sys.executable
RESULTS = BENCH / "results.json"
TARGET = 0.5  # issue 2: "about twice as fast as libcst's own codemod runner"
LEGEND = """
wall s: median of the rounds, spawn to exit; (x in): inside the process, without interpreter
  start and imports. cpu s: user + system of the process and its workers. peak RSS: the largest
  single process (with --jobs 2 not the sum); (x traced): tracemalloc peak of the planning alone.
files read: distinct files opened under the corpus; (+x absent): opens of files that are not
  there. files parsed: ast.parse of whole modules and libcst.parse_module calls; the jobs 2 rows
  repeat the jobs 1 counts (workers are not probed). ÷ baseline: wall and CPU time over the
  libcst runner's with the same jobs (in-process and tracemalloc rows: over their libcst twin).
"""


@dataclass(frozen=True)
class Program:
    key: str
    label: str
    argv: tuple[str, ...]
    ok: tuple[int, ...] = (0,)
    result: Path | None = None  # the JSON a driver writes
    rounds: int | None = None  # None: every round


@dataclass
class Sample:
    wall: float
    cpu: float
    max_rss_kb: int
    exit_code: int
    result: dict[str, Any] = field(default_factory=dict)


def spawn(argv: Sequence[str], stderr_path: Path) -> Sample:
    """Run argv with stdout discarded; wall time, CPU time and peak RSS of its process tree."""
    with stderr_path.open("wb") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    # ru_maxrss of a child counts the largest of its (waited-for) descendants, not their sum.
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, process.returncode)


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions: dict[str, str] = {}
    from importlib.metadata import PackageNotFoundError, version

    for package in ("celeryfix", "libcst", "ruamel.yaml"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "?"
    return {
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu": cpu,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": versions,
        "source": _git_state(),
    }


def _git_state() -> dict[str, Any]:
    """Which celeryfix was measured: the commit, and whether src/ had uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=BENCH.parent, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "src_dirty": bool(git("status", "--short", "src"))}


# -- validation: what celeryfix plans, against what the corpus was built to need ---------------


def validate(manifest: Manifest, root: Path) -> dict[str, Any]:
    """One untimed `apply --check --json` (it also warms the page cache): compare with the
    manifest, and return the settings files celeryfix would change (the baseline's input)."""
    roots = [str(path) for path in manifest.repo_paths(root)]
    done = subprocess.run(
        [PYTHON, "-m", "celeryfix", "apply", "--check", "--json", "-q", *roots],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        tail = done.stderr.strip().splitlines()[-3:]
        report = {"repositories": []}
        errors_before = [f"celeryfix --json printed no JSON (exit {done.returncode}): {tail}"]
    else:
        errors_before = []
    planned: dict[str, list[str]] = {}
    errors: list[str] = errors_before
    for repo in report["repositories"]:
        name = Path(repo["root"]).name
        planned[name] = sorted(change["path"] for change in repo["changes"])
        if repo["error"]:
            errors.append(f"{name}: {repo['error']}")
    mismatches = []
    for entry in manifest.repos:
        paths = planned.get(entry.name, [])
        python = [path for path in paths if path.endswith(".py")]
        others = [path for path in paths if not path.endswith(".py")]
        settings_ok = (
            len(python) == 1 and python[0] in entry.settings_candidates
            if entry.settings_candidates
            else not python
        )
        if not settings_ok or others != sorted(entry.compose_changes):
            mismatches.append(
                {
                    "repo": entry.name,
                    "expected": [" or ".join(entry.settings_candidates), *entry.compose_changes],
                    "planned": paths,
                }
            )
    settings = [
        str(root / name / path)
        for name, paths in planned.items()
        for path in paths
        if path.endswith(".py")
    ]
    return {
        "exit_code": done.returncode,
        "planned_changes": sum(len(paths) for paths in planned.values()),
        "settings_files": settings,
        "expected_settings_files": sum(bool(r.settings_candidates) for r in manifest.repos),
        "mismatches": mismatches,
        "errors": errors,
    }


# -- the programs -------------------------------------------------------------------------------


def programs(
    roots_list: Path,
    settings_list: Path,
    roots: list[str],
    work: Path,
    *,
    naive: bool,
    trace: bool,
) -> list[Program]:
    """What is timed: celeryfix, the baselines, and in-process variants of both."""
    cli = (PYTHON, "-m", "celeryfix", "apply", "--check", "-q")
    drivers = (PYTHON, str(BENCH / "drivers.py"))

    def driver(key: str, label: str, *args: str, rounds: int | None = 1) -> Program:
        result = work / f"{key}.json"
        return Program(
            key, label, (*drivers, *args, "--result", str(result)), result=result, rounds=rounds
        )

    listed = ("--list", str(settings_list))
    all_roots = ("--list", str(roots_list))
    found = [
        Program("startup", "python -c pass (interpreter start)", (PYTHON, "-c", "pass")),
        Program("cf_version", "celeryfix --version (start + CLI imports)", (*cli[:3], "--version")),
        Program("cf_j1", "celeryfix apply --check -q", (*cli, *roots), ok=(0, 1)),
        Program(
            "cf_j2", "celeryfix apply --check -q --jobs 2", (*cli, "--jobs", "2", *roots), (0, 1)
        ),
        Program(
            "cf_settings_j1",
            "celeryfix apply --check -q --select CF2",
            (*cli, "--select", "CF2", *roots),
            (0, 1),
        ),
        driver(
            "lib_j1", "libcst runner, settings files only", "libcst-runner", *listed, rounds=None
        ),
        driver(
            "lib_j2",
            "libcst runner, settings files only, jobs 2",
            "libcst-runner",
            *listed,
            "--jobs",
            "2",
            rounds=None,
        ),
        driver(
            "cf_inproc", "in-process: plan_path per repo", "plan-inprocess", *all_roots, rounds=None
        ),
        driver(
            "lib_inproc", "in-process: libcst transform", "libcst-inprocess", *listed, rounds=None
        ),
    ]
    if trace:
        found += [
            driver(
                "cf_traced",
                "tracemalloc: plan_path (warm)",
                "plan-inprocess",
                *all_roots,
                "--trace",
            ),
            driver(
                "lib_traced",
                "tracemalloc: libcst transform",
                "libcst-inprocess",
                *listed,
                "--trace",
            ),
        ]
    if naive:
        # Slow by nature (it is what the text check avoids): one round is enough to compare.
        found.append(
            driver("naive", "libcst-parse every .py file", "parse-all", *all_roots, rounds=1)
        )
    return found


def probes(programs_by_key: dict[str, Program], root: Path, work: Path) -> dict[str, Any]:
    """Counting runs (audit hook + parse wrappers): files read and parses of one-job programs."""
    counts: dict[str, Any] = {}
    for key in ("cf_j1", "cf_settings_j1", "lib_j1"):
        program = programs_by_key[key]
        out = work / f"probe-{key}.json"
        probe = (PYTHON, str(BENCH / "probe.py"), "--under", str(root), "--result", str(out))
        subprocess.run(
            [*probe, "--", *program.argv[1:]],  # the program without its interpreter
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        counts[key] = json.loads(out.read_text()) if out.exists() else {}
        if program.result is not None:
            program.result.unlink(missing_ok=True)
    return counts


def measure(all_programs: list[Program], rounds: int, work: Path) -> dict[str, list[Sample]]:
    """Every program `rounds` times (or its own number), rounds interleaved."""
    samples: dict[str, list[Sample]] = {program.key: [] for program in all_programs}
    for round_index in range(rounds):
        for program in all_programs:
            if program.rounds is not None and round_index >= program.rounds:
                continue
            stderr = work / f"{program.key}.stderr"
            sample = spawn(program.argv, stderr)
            if program.result is not None and program.result.exists():
                sample.result = json.loads(program.result.read_text())
                program.result.unlink()
            if sample.exit_code not in program.ok:
                tail = stderr.read_text(errors="replace").strip().splitlines()[-3:]
                print(
                    f"  ! {program.key}: exit {sample.exit_code}: " + " | ".join(tail),
                    file=sys.stderr,
                )
            samples[program.key].append(sample)
            print(
                f"  {program.key:15} round {round_index + 1}: {sample.wall:7.2f} s", file=sys.stderr
            )
    return samples


# -- the report ---------------------------------------------------------------------------------


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def summarize(samples: dict[str, list[Sample]]) -> dict[str, dict[str, Any]]:
    summary: dict[str, dict[str, Any]] = {}
    for key, runs in samples.items():
        if not runs:
            continue
        in_process = [run.result["seconds"] for run in runs if "seconds" in run.result]
        summary[key] = {
            "wall": _median([run.wall for run in runs]),
            "wall_min": min(run.wall for run in runs),
            "cpu": _median([run.cpu for run in runs]),
            "max_rss_mb": max(run.max_rss_kb for run in runs) / 1024,
            "rounds": len(runs),
            "exit_codes": sorted({run.exit_code for run in runs}),
            "in_process_seconds": _median(in_process) if in_process else None,
            "result": runs[-1].result,
        }
    return summary


def ratios(summary: dict[str, dict[str, Any]]) -> dict[str, float]:
    def ratio(top: str, bottom: str, what: str = "wall") -> float | None:
        if top not in summary or bottom not in summary:
            return None
        a, b = summary[top][what], summary[bottom][what]
        return a / b if a and b else None

    found = {
        "celeryfix / libcst runner (wall, jobs 1)": ratio("cf_j1", "lib_j1"),
        "celeryfix / libcst runner (wall, jobs 2)": ratio("cf_j2", "lib_j2"),
        "celeryfix --select CF2 / libcst runner (wall, jobs 1)": ratio("cf_settings_j1", "lib_j1"),
        "celeryfix / libcst-parse every .py (wall)": ratio("cf_j1", "naive"),
        "celeryfix / libcst runner (CPU, jobs 1)": ratio("cf_j1", "lib_j1", "cpu"),
        "celeryfix / libcst runner (CPU, jobs 2)": ratio("cf_j2", "lib_j2", "cpu"),
        "celeryfix --select CF2 / libcst runner (CPU, jobs 1)": ratio(
            "cf_settings_j1", "lib_j1", "cpu"
        ),
        "celeryfix / libcst runner (peak RSS, jobs 1)": ratio("cf_j1", "lib_j1", "max_rss_mb"),
    }
    cf, lib = summary.get("cf_inproc"), summary.get("lib_inproc")
    if cf and lib and cf["in_process_seconds"] and lib["in_process_seconds"]:
        found["plan_path / libcst transform (in-process, no start-up)"] = (
            cf["in_process_seconds"] / lib["in_process_seconds"]
        )
    cft, libt = summary.get("cf_traced"), summary.get("lib_traced")
    if cft and libt:
        a = cft["result"].get("traced_peak_bytes")
        b = libt["result"].get("traced_peak_bytes")
        if a and b:
            found["plan_path / libcst transform (tracemalloc peak)"] = a / b
    return {key: value for key, value in found.items() if value is not None}


def contention(summary: dict[str, dict[str, Any]]) -> float:
    """Wall over CPU time of the single-process runs: about 1 on an idle machine."""
    keys = [key for key in ("cf_j1", "cf_settings_j1", "lib_j1", "naive") if key in summary]
    cpu = sum(summary[key]["cpu"] for key in keys)
    return sum(summary[key]["wall"] for key in keys) / cpu if cpu else 1.0


def _counts_cell(count: dict[str, Any]) -> tuple[str, str]:
    if not count:
        return "", ""
    read = f"{count['files_opened']}"
    if count["opens"] != count["files_opened"]:
        read += f" ({count['opens']} opens)"  # some files read more than once
    if count.get("missing_opened"):
        read += f" (+{count['missing_opened']} absent)"
    calls = count.get("parse_calls", {})
    parses = []
    if calls.get("ast.parse (module)"):
        parses.append(f"ast {calls['ast.parse (module)']}")
    if calls.get("libcst.parse_module"):
        parses.append(f"libcst {calls['libcst.parse_module']}")
    return read, ", ".join(parses) or "0"


def table(
    summary: dict[str, dict[str, Any]], counts: dict[str, Any], labels: dict[str, str]
) -> str:
    base_for = {"cf_j1": "lib_j1", "cf_j2": "lib_j2", "cf_settings_j1": "lib_j1"}
    rows = [
        (
            "run",
            "wall s",
            "cpu s",
            "peak RSS MB",
            "files read",
            "files parsed",
            "÷ baseline wall/cpu",
        )
    ]
    for key, entry in summary.items():
        read, parsed = _counts_cell(counts.get(key, {}))
        if key in ("cf_j2",):
            read, parsed = _counts_cell(counts.get("cf_j1", {}))
        if key == "lib_j2":
            read, parsed = _counts_cell(counts.get("lib_j1", {}))
        if key == "naive":
            result = entry["result"]
            read = str(result.get("parsed", 0) + result.get("failed", 0))
            parsed = f"libcst {result.get('parsed', 0)}"
        wall = f"{entry['wall']:.2f}"
        if entry["in_process_seconds"] is not None:
            wall += f" ({entry['in_process_seconds']:.2f} in)"
        traced = entry["result"].get("traced_peak_bytes")
        memory = f"{entry['max_rss_mb']:.0f}"
        if traced:
            memory += f" ({traced / 2**20:.1f} traced)"
        base = base_for.get(key)
        if key == "cf_inproc" and "lib_inproc" in summary:
            cf_in = entry["in_process_seconds"]
            lib_in = summary["lib_inproc"]["in_process_seconds"]
            versus = f"{cf_in / lib_in:.2f}" if cf_in and lib_in else ""
        elif key == "cf_traced" and "lib_traced" in summary:
            lib_traced = summary["lib_traced"]["result"].get("traced_peak_bytes")
            versus = f"{traced / lib_traced:.2f} (mem)" if traced and lib_traced else ""
        else:
            other = summary.get(base or "")
            versus = (
                f"{entry['wall'] / other['wall']:.2f} / {entry['cpu'] / other['cpu']:.2f}"
                if other
                else ""
            )
        rows.append((labels[key], wall, f"{entry['cpu']:.2f}", memory, read, parsed, versus))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 repositories, one round")
    parser.add_argument("--repos", type=int, help="repositories (default 200; 20 with --quick)")
    parser.add_argument("--files", type=int, default=CorpusSpec.files, help="files per repository")
    parser.add_argument("--seed", type=int, default=CorpusSpec.seed)
    parser.add_argument("--rounds", type=int, help="timed rounds (default 3; 1 with --quick)")
    parser.add_argument(
        "--naive",
        action=argparse.BooleanOptionalAction,
        help="run the parse-every-file baseline (default: yes; no with --quick)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="also measure the tracemalloc peak in-process (slow: ~4x the planning time)",
    )
    parser.add_argument(
        "--json", action="store_true", help=f"write {RESULTS.relative_to(BENCH.parent)}"
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        help="corpus folder (default: bench/.corpus/r<repos>-f<files>-s<seed>)",
    )
    args = parser.parse_args(argv)
    repos = args.repos or (20 if args.quick else CorpusSpec.repos)
    rounds = args.rounds or (1 if args.quick else 3)
    spec = CorpusSpec(repos, args.files, args.seed)
    started = time.perf_counter()

    root = (args.corpus or default_root(spec)).resolve()
    print(f"corpus: {spec} under {root}", file=sys.stderr)
    manifest = generate(spec, root)
    roots = [str(path) for path in manifest.repo_paths(root)]
    with tempfile.TemporaryDirectory(prefix="celeryfix-bench-") as scratch:
        work = Path(scratch)
        check = validate(manifest, root)
        if not check["settings_files"]:
            print(
                "celeryfix plans no settings change on the corpus: the baseline has no input "
                f"(exit {check['exit_code']}); first errors:",
                *check["errors"][:5],
                sep="\n  ",
                file=sys.stderr,
            )
            return 2
        roots_list, settings_list = work / "roots.txt", work / "settings.txt"
        roots_list.write_text("\n".join(roots) + "\n")
        settings_list.write_text("\n".join(check["settings_files"]) + "\n")
        found = programs(
            roots_list,
            settings_list,
            roots,
            work,
            naive=args.naive if args.naive is not None else not args.quick,
            trace=args.trace,
        )
        by_key = {program.key: program for program in found}
        print("counting runs (files read, parses)...", file=sys.stderr)
        counts = probes(by_key, root, work)
        print(f"timed runs ({rounds} round(s))...", file=sys.stderr)
        samples = measure(found, rounds, work)
    summary = summarize(samples)
    found_ratios = ratios(summary)
    info = machine()
    own = sum(repo.own_files for repo in manifest.repos)
    noise = sum(repo.noise_files for repo in manifest.repos)
    python_files = sum(repo.python_files for repo in manifest.repos)

    print()
    print(
        f"machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"libcst {info['packages']['libcst']}, ruamel.yaml {info['packages']['ruamel.yaml']}"
    )
    print(
        f"celeryfix {info['packages']['celeryfix']} at {info['source']['commit'][:10]}"
        + (" + uncommitted changes in src/" if info["source"]["src_dirty"] else "")
    )
    print(
        f"corpus: {repos} repositories (seed {spec.seed}), {own} files of their own "
        f"({python_files} .py) + {noise} in skipped folders; celeryfix plans "
        f"{check['planned_changes']} changes, {len(check['settings_files'])} of them settings "
        "files (the baseline's input)"
    )
    if check["mismatches"] or check["errors"]:
        print(
            f"WARNING: celeryfix's plan differs from the corpus manifest in "
            f"{len(check['mismatches'])} repositories; {len(check['errors'])} errors"
        )
        for item in (check["errors"] + check["mismatches"])[:5]:
            print(f"  {item}")
    print()
    labels = {program.key: program.label for program in found}
    print(table(summary, counts, labels))
    print(LEGEND)
    print("ratios (below 1: celeryfix is faster / smaller):")
    for name, value in found_ratios.items():
        print(f"  {name:58} {value:6.2f}")
    headline = found_ratios.get("celeryfix / libcst runner (wall, jobs 1)")
    if headline is not None:
        print(
            f"issue 2 target: about {TARGET:.1f} (twice as fast as the libcst runner fed only the "
            f"settings files); measured {headline:.2f}"
        )
    imported = counts.get("cf_j1", {}).get("imported")
    if imported is not None:
        print(
            f"modules celeryfix imported (of libcst, rich, ruamel.yaml, typer, pathspec): {imported}"
        )
    busy = contention(summary)
    if busy > 1.15:
        print(
            f"note: one-process runs took {busy:.2f}x their CPU time in wall time: the machine was "
            "busy (load average {:.2f} {:.2f} {:.2f}); the CPU ratios are the steadier ones".format(
                *os.getloadavg()
            )
        )
    print(f"benchmark took {time.perf_counter() - started:.0f} s")

    if args.json:
        document = {
            "machine": info,
            "corpus": {
                **asdict(spec),
                "own_files": own,
                "python_files": python_files,
                "noise_files": noise,
            },
            "validation": {k: v for k, v in check.items() if k != "settings_files"}
            | {"settings_files": len(check["settings_files"])},
            "programs": {p.key: {"label": p.label, "argv": _short(p.argv, root)} for p in found},
            "counts": counts,
            "summary": summary,
            "samples": {k: [asdict(s) for s in v] for k, v in samples.items()},
            "ratios": found_ratios,
            "wall_over_cpu_single_process": busy,
            "load_average_at_end": os.getloadavg(),
            "target": TARGET,
        }
        RESULTS.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {RESULTS}")
    return 0


def _short(argv: Sequence[str], root: Path) -> list[str]:
    """argv without the list of repository paths."""
    kept = [arg for arg in argv if not arg.startswith(str(root) + os.sep)]
    return kept + ([f"<{len(argv) - len(kept)} paths>"] if len(kept) < len(argv) else [])


if __name__ == "__main__":
    sys.exit(main())
