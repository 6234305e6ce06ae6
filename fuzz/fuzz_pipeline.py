"""Fuzz the whole pipeline: bytes in -> discover -> parse -> rules -> edits -> verify.

Each input becomes a small repository: its first byte chooses which file the rest of the bytes
become (a compose file, a settings module, both, a Dockerfile, a start script, a Procfile, the
Celery app module, a supervisord config), around fixed healthy files that make every planner
look at it. The repository is planned with every rule selected; the invariants:

- planning raises nothing (a traceback in the CLI), whatever the bytes;
- a repository that cannot be planned fails with one line;
- every planned file encodes back to text that decodes to the same text;
- planning again after writing the changes plans nothing (idempotence) and does not fail.

With atheris (coverage-guided; `pip install atheris`, Linux x86-64 wheels) the seed corpus is
every before-text of the rule case tables; without it, hypothesis generates and mutates
inputs. `python fuzz/fuzz_pipeline.py --runs 10000` (what `make fuzz` runs); see README.md.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The seeds and generators of the safety tests: tests/ for their case tables, tests/safety.
for folder in (ROOT / "tests", ROOT / "tests" / "safety", ROOT / "src"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

REGRESSIONS = HERE / "regressions"  # inputs that once failed; replayed by the test suite
SEPARATOR = b"\n#%%\n"

COMPOSE = "services:\n  worker:\n    build: .\n    command: celery -A proj worker -l info\n"
APP = (
    "import os\n"
    "from celery import Celery\n"
    'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")\n'
    'app = Celery("proj")\n'
    'app.config_from_object("django.conf:settings", namespace="CELERY")\n'
)
SETTINGS = "DEBUG = True\nCELERY_BROKER_URL = 'redis://'\n"
BASE: dict[str, bytes] = {
    "docker-compose.yml": COMPOSE.encode(),
    "proj/__init__.py": b"",
    "proj/celery.py": APP.encode(),
    "proj/settings.py": SETTINGS.encode(),
}


def _compose(payload: bytes) -> dict[str, bytes]:
    return {**BASE, "docker-compose.yml": payload}


def _settings(payload: bytes) -> dict[str, bytes]:
    return {**BASE, "proj/settings.py": payload}


def _both(payload: bytes) -> dict[str, bytes]:
    compose, _, settings = payload.partition(SEPARATOR)
    return {**BASE, "docker-compose.yml": compose, "proj/settings.py": settings}


def _dockerfile(payload: bytes) -> dict[str, bytes]:
    return {**BASE, "Dockerfile": payload}


def _script(payload: bytes) -> dict[str, bytes]:
    compose = b"services:\n  worker:\n    build: .\n    command: ./start.sh\n"
    return {**BASE, "docker-compose.yml": compose, "start.sh": payload}


def _procfile(payload: bytes) -> dict[str, bytes]:
    return {**BASE, "Procfile": payload}


def _app(payload: bytes) -> dict[str, bytes]:
    return {**BASE, "proj/celery.py": payload}


def _supervisord(payload: bytes) -> dict[str, bytes]:
    return {**BASE, "supervisord.conf": payload}


LAYOUTS: tuple[Callable[[bytes], dict[str, bytes]], ...] = (
    _compose,
    _settings,
    _both,
    _dockerfile,
    _script,
    _procfile,
    _app,
    _supervisord,
)


def repository_of(data: bytes) -> dict[str, bytes]:
    """The repository an input stands for: data[0] picks the layout, the rest is the file."""
    if not data:
        return dict(BASE)
    return LAYOUTS[data[0] % len(LAYOUTS)](data[1:])


def input_of(layout: int, payload: bytes) -> bytes:
    """The input that stands for `payload` placed by LAYOUTS[layout] (inverse of repository_of)."""
    return bytes([layout]) + payload


class PipelineFailure(AssertionError):
    """An invariant of the pipeline does not hold for this input."""


# Open bugs, each with a saved input in regressions/ (an xfail test in
# tests/safety/test_fuzz_short.py): inputs that hit them are let through, so that a run finds
# new bugs instead of these again. `--strict` reports them too. Remove an entry with its fix.
KNOWN_OPEN: tuple[tuple[str, str], ...] = ()


def is_known(error: BaseException) -> bool:
    """The error is one of the open bugs of KNOWN_OPEN."""
    return any(type(error).__name__ == name and text in str(error) for name, text in KNOWN_OPEN)


@cache
def _workspace() -> Path:
    """A scratch folder for this process (in memory where possible). libFuzzer ends the
    process without running Python's exit handlers, so the folders of finished runs are
    removed here, at the start of the next one."""
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() else Path(tempfile.gettempdir())
    prefix = f"celeryfix-fuzz-{os.getuid()}-"
    for stale in base.glob(prefix + "*"):
        if not Path("/proc", stale.name.removeprefix(prefix)).exists():
            shutil.rmtree(stale, ignore_errors=True)
    folder = base / f"{prefix}{os.getpid()}"
    folder.mkdir(exist_ok=True)
    return folder


@cache
def _options() -> object:
    from celeryfix.config import resolve_options

    # Every rule, the unsafe ones too (they are selected by id): all planners see the input.
    return resolve_options(_workspace(), {"select": ["ALL", "CF105", "CF107"]})


def _write(root: Path, files: dict[str, bytes]) -> None:
    shutil.rmtree(root, ignore_errors=True)
    for relpath, content in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def check_input(data: bytes, strict: bool = False) -> None:
    """Plan the repository `data` stands for; raise PipelineFailure (or whatever escaped the
    pipeline) when an invariant breaks, unless it is a known open bug and not `strict`."""
    try:
        _check(data)
    except Exception as error:
        if strict or not is_known(error):
            raise


def _check(data: bytes) -> None:
    from celeryfix.engine import plan_repository
    from celeryfix.textfile import decode

    root = _workspace() / "repo"
    _write(root, repository_of(data))
    options = _options()
    result = plan_repository(root, options)  # type: ignore[arg-type]
    if result.error is not None:
        if not result.error.strip() or "\n" in result.error:
            raise PipelineFailure(f"the error is not one line: {result.error!r}")
        return
    new_files = {}
    for change in result.changes:
        new = change.file.encode(change.new_text)
        again = decode(change.file.path, change.relpath, new, python=change.relpath.endswith(".py"))
        if again.text != change.new_text:
            raise PipelineFailure(f"{change.relpath}: the new text does not survive encoding")
        if new == change.file.raw:
            raise PipelineFailure(f"{change.relpath}: a change that changes nothing")
        new_files[change.relpath] = new
    if not new_files:
        return
    for relpath, new in new_files.items():
        (root / relpath).write_bytes(new)
    second = plan_repository(root, options)  # type: ignore[arg-type]
    if second.error is not None:
        raise PipelineFailure(f"the fixed repository fails: {second.error}")
    if second.changes:
        changed = ", ".join(c.relpath for c in second.changes)
        raise PipelineFailure(f"not idempotent: a second run changes {changed}")


# --------------------------------------------------------------------------- seeds


def seeds() -> Iterable[bytes]:
    """Inputs to start from: the case tables' before-texts in every layout that fits them, the
    healthy files, and every saved regression."""
    from strategies import SEED_COMPOSE_TEXTS

    for text in SEED_COMPOSE_TEXTS:
        yield input_of(0, text.encode())
        yield input_of(2, text.encode() + SEPARATOR + SETTINGS.encode())
    for settings in (
        SETTINGS,
        "# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\n" + SETTINGS,
        "CELERY_WORKER_LOG_COLOR: bool = False\nCELERY_BROKER_CONNECTION_RETRY = False\n",
        "from .base import *\nif DEBUG:\n    CELERY_WORKER_HIJACK_ROOT_LOGGER = False\n",
    ):
        yield input_of(1, settings.encode("latin-1" if "latin-1" in settings else "utf-8"))
    yield input_of(3, b'FROM python:3.12\nCMD ["celery", "-A", "proj", "worker", "-l", "info"]\n')
    yield input_of(3, b"FROM python:3.12\nENTRYPOINT celery -A proj beat\n")
    yield input_of(4, b"#!/bin/sh\nset -e\npython manage.py migrate\nexec celery -A proj worker\n")
    yield input_of(5, b"web: gunicorn proj.wsgi\nworker: celery -A proj worker -l info\n")
    yield input_of(6, APP.encode() + b"app.conf.update(worker_log_color=True)\n")
    yield input_of(7, b"[program:worker]\ncommand=celery -A proj worker -l info\nuser=root\n")
    if REGRESSIONS.is_dir():
        for path in sorted(REGRESSIONS.iterdir()):
            yield path.read_bytes()


# --------------------------------------------------------------------------- engines


def fuzz_with_atheris(runs: int, corpus: Path | None, crashes: Path, strict: bool) -> None:
    import atheris  # type: ignore[import-not-found]

    # Coverage feedback from celeryfix and the parsers it drives: every module of celeryfix is
    # imported (so instrumented) before anything else imports it, the seeds included.
    with atheris.instrument_imports(include=["celeryfix", "ruamel", "pathspec"]):
        import celeryfix

        for module in pkgutil.walk_packages(celeryfix.__path__, "celeryfix."):
            if not module.name.endswith(".__main__"):  # that one runs the command line
                importlib.import_module(module.name)
    corpus = corpus or Path(tempfile.mkdtemp(prefix="celeryfix-corpus-"))
    corpus.mkdir(parents=True, exist_ok=True)
    for index, seed in enumerate(seeds()):
        (corpus / f"seed-{index:04d}").write_bytes(seed)
    crashes.mkdir(parents=True, exist_ok=True)
    print(f"atheris: {runs} runs, corpus {corpus}, crashes saved in {crashes}", file=sys.stderr)
    atheris.Setup(
        [
            sys.argv[0],
            f"-runs={runs}",
            "-timeout=30",
            "-rss_limit_mb=4096",
            "-max_len=65536",
            f"-artifact_prefix={crashes}{os.sep}",
            str(corpus),
        ],
        lambda data: check_input(data, strict),
    )
    atheris.Fuzz()


def hypothesis_inputs() -> object:
    """Inputs for hypothesis: seeds mutated byte by byte, generated repositories, noise."""
    from hypothesis import strategies as st
    from strategies import compose_files, settings_modules

    alphabet = list(b"\n\r\t\x0b\x0c -:[]{}#&*!|>'\"\\,=$()%@`;\x00\xff") + list(b"celryworkbatA")

    @st.composite
    def mutated(draw: Callable[..., object]) -> bytes:
        data = bytearray(draw(st.sampled_from(list(seeds()))))  # type: ignore[arg-type]
        for _ in range(draw(st.integers(1, 8))):  # type: ignore[arg-type]
            at = draw(st.integers(1, max(1, len(data))))  # type: ignore[arg-type]
            kind = draw(st.integers(0, 3))
            if kind == 0:
                data[at:at] = bytes([draw(st.sampled_from(alphabet))])  # type: ignore[list-item]
            elif kind == 1:
                del data[at : at + draw(st.integers(1, 8))]  # type: ignore[operator]
            elif kind == 2:
                data[at:at] = data[max(1, at - 40) : at]
            else:
                data[at : at + 1] = bytes([draw(st.integers(0, 255))])  # type: ignore[list-item]
        return bytes(data)

    generated = st.one_of(
        st.builds(lambda c: input_of(0, c), compose_files()),
        st.builds(lambda s: input_of(1, s), settings_modules()),
        st.builds(lambda c, s: input_of(2, c + SEPARATOR + s), compose_files(), settings_modules()),
    )
    return st.one_of(mutated(), mutated(), generated, st.binary(max_size=2048))


def fuzz_with_hypothesis(runs: int, seed: int | None = None, strict: bool = False) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as fix_seed

    @settings(
        max_examples=runs,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(hypothesis_inputs())  # type: ignore[arg-type]
    def fuzz(data: bytes) -> None:
        check_input(data, strict)

    if seed is not None:
        fuzz = fix_seed(seed)(fuzz)
    print(f"hypothesis: {runs} inputs", file=sys.stderr)
    fuzz()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="inputs to try")
    parser.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    parser.add_argument("--corpus", type=Path, help="atheris corpus folder (kept between runs)")
    parser.add_argument(
        "--crashes", type=Path, default=HERE / "crashes", help="where atheris saves crash inputs"
    )
    parser.add_argument("--seed", type=int, help="hypothesis seed")
    parser.add_argument("--strict", action="store_true", help="report the known open bugs too")
    parser.add_argument("replay", nargs="*", type=Path, help="inputs to check once, then exit")
    args = parser.parse_args(argv)
    if args.replay:
        for path in args.replay:
            check_input(path.read_bytes(), strict=True)
            print(f"{path}: ok")
        return
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # type: ignore[import-not-found]  # noqa: F401
        except ImportError:
            engine = "hypothesis"
        else:
            engine = "atheris"
    try:
        if engine == "atheris":
            fuzz_with_atheris(args.runs, args.corpus, args.crashes, args.strict)
        else:
            fuzz_with_hypothesis(args.runs, args.seed, args.strict)
    finally:
        shutil.rmtree(_workspace(), ignore_errors=True)


if __name__ == "__main__":
    main()
