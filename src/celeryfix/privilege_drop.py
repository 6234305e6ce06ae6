"""Which options drop root for one Celery invocation, or why none are added.

One policy for every kind of launch site (compose files today; scripts, Dockerfiles and others
later): the site finds invocations and knows who the process runs as; this module decides.
Facts (Celery 5.3-5.7): `--uid`/`--gid` as a non-root user crash the worker with
`PermissionError: [Errno 1] Operation not permitted`; with `-D/--detach` or `celery multi` Celery
strips only the bare tokens `--uid`/`--gid` from the child's argv, so `--uid=x` kills the detached
child silently; beat as nobody in a root-owned folder dies on its default schedule file.
"""

from __future__ import annotations

from dataclasses import dataclass

from celeryfix.config import Options
from celeryfix.dockerfile import is_rhel_family
from celeryfix.invocations import CeleryInvocation

WORKER_RULE = "CF101"
BEAT_RULE = "CF102"
# Schedulers that keep their schedule elsewhere than in a local file.
FILELESS_SCHEDULERS = (
    "DatabaseScheduler",
    "RedBeatScheduler",
    "redbeat",
    "MongoScheduler",
    "SQLAlchemyScheduler",
)


@dataclass(frozen=True)
class LaunchContext:
    """What the site knows about the process that runs the invocation."""

    non_root_user: str | None = None  # e.g. "user: app (docker-compose.yml)": already drops root
    image: str | None = None  # the base image, for the group name
    fileless_scheduler: bool = False  # the settings choose a scheduler that keeps no file


@dataclass(frozen=True)
class FlagPlan:
    """Options to append, each with the rule that wants it."""

    flags: tuple[tuple[str, str], ...]

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(rule for _, rule in self.flags))


@dataclass(frozen=True)
class LeaveAlone:
    """Why a worker or beat invocation gets no flags."""

    rule: str
    reason: str


def concerned_rules(invocation: CeleryInvocation) -> tuple[str, ...]:
    """The rules an invocation matters to: worker CF101, beat CF102, worker -B both."""
    if invocation.subcommand == "worker":
        return (WORKER_RULE, BEAT_RULE) if invocation.embedded_beat else (WORKER_RULE,)
    if invocation.subcommand == "beat":
        return (BEAT_RULE,)
    if invocation.subcommand == "multi":
        return (WORKER_RULE,)
    return ()


def default_group(image: str | None) -> str:
    """nogroup (Debian, Ubuntu, Alpine), nobody on RHEL-family images that have no nogroup."""
    return "nobody" if image and is_rhel_family(image) else "nogroup"


def _keeps_no_file(scheduler: str | None) -> bool:
    if not scheduler:
        return False
    return any(name.lower() in scheduler.lower() for name in FILELESS_SCHEDULERS)


def plan_flags(
    invocation: CeleryInvocation, context: LaunchContext, options: Options
) -> FlagPlan | LeaveAlone | None:
    """The flags to add, a reason to leave it, or None when no enabled rule is concerned."""
    rules = [rule for rule in concerned_rules(invocation) if options.is_enabled(rule)]
    if not rules:
        return None
    rule = rules[0]
    if invocation.subcommand == "multi":
        return LeaveAlone(
            rule,
            "`celery multi` detaches its workers; Celery strips only bare `--uid`/`--gid` from their argv, so the flags would kill them: set the user in the service definition instead",
        )
    if invocation.drops_privileges:
        return LeaveAlone(rule, f"already drops root through `{invocation.drops_privileges}`")
    if invocation.has_uid or invocation.has_gid:
        return LeaveAlone(rule, "already sets --uid/--gid")
    if invocation.detach:
        return LeaveAlone(
            rule,
            "runs detached (-D/--detach): Celery strips only bare `--uid`/`--gid` from the child's argv, so the flags would kill it silently",
        )
    if context.non_root_user:
        return LeaveAlone(
            rule,
            f"already runs as a non-root user ({context.non_root_user}); --uid would crash it with `PermissionError: [Errno 1] Operation not permitted`",
        )
    uid = options.uid or "nobody"
    gid = options.gid or default_group(context.image)
    flags = [(f"--uid={uid}", rule), (f"--gid={gid}", rule)]
    wants_schedule = BEAT_RULE in rules and not invocation.schedule_set
    if (
        wants_schedule
        and not _keeps_no_file(invocation.scheduler)
        and not context.fileless_scheduler
    ):
        option = "--schedule" if invocation.subcommand == "beat" else "--schedule-filename"
        flags.append((f"{option}={options.schedule}", BEAT_RULE))
    return FlagPlan(tuple(flags))
