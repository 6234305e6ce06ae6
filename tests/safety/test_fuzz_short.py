"""The fuzz target (fuzz/fuzz_pipeline.py) on a short budget, and every input it ever failed on.

`make fuzz` runs 10,000+ inputs (atheris when installed, else hypothesis); here hypothesis
feeds a few hundred through the same target: mutated seeds, generated repositories, noise.
Each saved regression input is replayed: the fixed ones must pass, the open ones are strict
xfails (remove the mark, and the entry of fuzz_pipeline.KNOWN_OPEN, with the fix).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "fuzz"))

import fuzz_pipeline

# Every file of fuzz/regressions: None when fixed, else why it still fails.
REGRESSIONS: dict[str, str | None] = {
    # Fixed: one line naming the file (compose/plan.py turns it into a compose error).
    "compose-unterminated-quote": None,
    "compose-unbalanced-parenthesis": None,
    # Fixed: the planner re-reads its edit as compose and sh would, and drops it with a note.
    "sh-c-script-closed-before-its-last-word": None,
    # Contained: one line, exit 2 (engine.py turns an internal error into one line); the file
    # is valid Python that celeryfix cannot place settings in yet.
    "settings-form-feed-before-a-statement": None,
    # Fixed: a YAML error whose message ruamel spreads over several lines (compose/document.py).
    "yaml-error-over-several-lines": None,
}


def test_every_saved_input_has_an_entry() -> None:
    assert sorted(p.name for p in fuzz_pipeline.REGRESSIONS.iterdir()) == sorted(REGRESSIONS)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reason)) if reason else name
        for name, reason in REGRESSIONS.items()
    ],
)
def test_saved_regression(name: str) -> None:
    fuzz_pipeline.check_input((fuzz_pipeline.REGRESSIONS / name).read_bytes(), strict=True)


def test_every_seed_passes() -> None:
    seeds = list(fuzz_pipeline.seeds())
    assert len(seeds) > 50
    for seed in seeds:
        if seed in {(fuzz_pipeline.REGRESSIONS / name).read_bytes() for name in REGRESSIONS}:
            continue
        fuzz_pipeline.check_input(seed, strict=True)


def test_the_known_open_bugs_are_the_saved_ones() -> None:
    """Each KNOWN_OPEN entry matches a saved input that still fails (so a fixed bug cannot stay
    hidden behind the filter)."""
    for name, text in fuzz_pipeline.KNOWN_OPEN:
        hits = []
        for saved, reason in REGRESSIONS.items():
            if reason is None:
                continue
            try:
                fuzz_pipeline.check_input((fuzz_pipeline.REGRESSIONS / saved).read_bytes(), True)
            except Exception as error:
                hits.append(type(error).__name__ == name and text in str(error))
        assert any(hits), f"no saved input hits the known bug {name}: {text}"


@settings(
    max_examples=500,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(fuzz_pipeline.hypothesis_inputs())  # type: ignore[arg-type]
def test_fuzz_the_pipeline_briefly(data: bytes) -> None:
    fuzz_pipeline.check_input(data)


def test_the_fuzz_command_runs(tmp_path: Path) -> None:
    """`fuzz_pipeline.py --engine hypothesis --runs 20` ends cleanly (what CI and make run,
    but short)."""
    import subprocess

    done = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "fuzz" / "fuzz_pipeline.py"),
            "--engine",
            "hypothesis",
            "--runs",
            "20",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
