"""Fixtures of the end-to-end tests: one redis-server, cached venvs, and per project and
Celery line a scenario that runs the real worker and beat before and after `celeryfix apply`.

A missing piece of the set-up fails loudly (CI installs everything with
.ci/install-system.sh); nothing here skips.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import harness
import pytest
from harness import Scenario


@pytest.fixture(scope="session")
def host_ready() -> None:
    """The host can run a worker as root and give it a private /tmp."""
    if os.geteuid() != 0:
        pytest.fail("the e2e tests run Celery as root, as a container does: run them as root")
    for tool in ("unshare", "setpriv", "mount", "redis-server"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing; {harness.INSTALL_HINT}")


@pytest.fixture(scope="session")
def redis_server(host_ready: None) -> Iterator[harness.RedisServer]:
    """One private redis-server for the whole session."""
    server = harness.RedisServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def venvs(host_ready: None) -> dict[str, Path]:
    """Celery line name -> its venv (built once, cached across sessions)."""
    with ThreadPoolExecutor(max_workers=len(harness.CELERY_LINES)) as pool:
        built = {line.name: pool.submit(harness.ensure_venv, line) for line in harness.CELERY_LINES}
        return {name: future.result() for name, future in built.items()}


@pytest.fixture(scope="session")
def workspace(host_ready: None) -> Iterator[Path]:
    """World-readable folder for the project copies, removed at the end."""
    folder = harness.new_workspace()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


SCENARIOS = [(project, line) for project in harness.PROJECTS for line in harness.CELERY_LINES]
ScenarioKey = tuple[harness.Project, harness.CeleryLine]


class LookAhead:
    """Runs the selected scenarios in pytest's order, the next one while this one is tested.

    Two scenarios at a time keep both cores busy while their workers wait on redis and
    mingle; only scenarios that some selected test uses are started.
    """

    def __init__(
        self,
        wanted: list[ScenarioKey],
        redis: harness.RedisServer,
        venvs: dict[str, Path],
        workspace: Path,
    ) -> None:
        self._wanted = wanted
        self._redis = redis
        self._venvs = venvs
        self._workspace = workspace
        self._pool = ThreadPoolExecutor(max_workers=2)
        self._started: dict[ScenarioKey, Future[Scenario]] = {}

    def get(self, key: ScenarioKey) -> Scenario:
        """The scenario `key`, once run; the next wanted one starts meanwhile."""
        index = self._wanted.index(key) if key in self._wanted else len(self._wanted)
        for next_key in [key, *self._wanted[index + 1 : index + 2]]:
            if next_key not in self._started:
                project, line = next_key
                self._started[next_key] = self._pool.submit(
                    harness.run_scenario,
                    project,
                    line,
                    self._venvs[line.name],
                    self._redis,
                    self._workspace,
                )
        return self._started[key].result()

    def close(self) -> None:
        """Wait for whatever still runs (no process outlives the session)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def look_ahead(
    request: pytest.FixtureRequest,
    redis_server: harness.RedisServer,
    venvs: dict[str, Path],
    workspace: Path,
) -> Iterator[LookAhead]:
    """The scenario runner, told which scenarios the selected tests use, in their order."""
    wanted: list[ScenarioKey] = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        key = callspec.params.get("scenario") if callspec else None
        if key is not None and key not in wanted:
            wanted.append(key)
    runner = LookAhead(wanted, redis_server, venvs, workspace)
    yield runner
    runner.close()


@pytest.fixture(
    scope="session",
    params=SCENARIOS,
    ids=[f"{project.name}-{line.name}" for project, line in SCENARIOS],
)
def scenario(request: pytest.FixtureRequest, look_ahead: LookAhead) -> Scenario:
    """One project on one Celery line: its pristine and its fixed copy, run for real."""
    key: ScenarioKey = request.param
    return look_ahead.get(key)
