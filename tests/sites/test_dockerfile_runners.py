"""Who runs a Dockerfile's default command: the image, and the compose services that keep it."""

from __future__ import annotations

from pathlib import Path

from repo_helpers import write_repo

from celeryfix.compose.plan import ServiceLaunch
from celeryfix.config import resolve_options
from celeryfix.discover import discover
from celeryfix.engine import RepoContext
from celeryfix.privilege_drop import LaunchContext
from celeryfix.sites.dockerfiles import plan_site

DOCKERFILE = 'FROM python:3.12-slim\nENTRYPOINT ["celery", "-A", "proj"]\nCMD ["worker"]\n'


def context_with(root: Path, argv: tuple[str, ...], user: str | None) -> RepoContext:
    write_repo(root, {"Dockerfile": DOCKERFILE})
    context = RepoContext(root, discover(root))
    launch = ServiceLaunch(
        "docker-compose.yml", "celery", 3, argv, LaunchContext(user), "Dockerfile", ".", None
    )
    context.compose.services.append(launch)
    return context


def test_a_service_that_keeps_the_cmd_runs_it(tmp_path: Path) -> None:
    """A service that sets neither command nor entrypoint (argv empty) runs the CMD as its
    own user: a non-root one keeps the CMD unedited."""
    context = context_with(tmp_path, (), "user: app in docker-compose.yml")
    plan = plan_site(context, resolve_options(tmp_path, {}))
    assert plan.edits == []
    assert "need different changes" in plan.notes[0].message


def test_a_service_with_its_own_command_does_not_run_the_cmd(tmp_path: Path) -> None:
    context = context_with(tmp_path, ("beat",), "user: app in docker-compose.yml")
    plan = plan_site(context, resolve_options(tmp_path, {}))
    assert [e.text for e in plan.edits] == [', "--uid=nobody", "--gid=nogroup"']
