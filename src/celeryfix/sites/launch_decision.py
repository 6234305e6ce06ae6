"""One decision for every launch site: the privilege-drop policy applied to what runs there.

A site (a start script, a Dockerfile's CMD) may be started by several runners: compose services,
images, other scripts. Each runner says who the process runs as; `plan_flags` decides per
runner, and the site is edited only when every runner wants the same flags. Otherwise it is
reported: flags that one runner needs would crash the worker under another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from celeryfix.config import Options
from celeryfix.launch import Found, Wrapped
from celeryfix.models import Edit, Note, NoteKind
from celeryfix.privilege_drop import (
    BEAT_RULE,
    WORKER_RULE,
    FlagPlan,
    LaunchContext,
    LeaveAlone,
    plan_flags,
)
from celeryfix.sites import SitePlan
from celeryfix.tokens import ArgvToken

EditMaker = Callable[[ArgvToken, FlagPlan], Edit | None]


@dataclass(frozen=True)
class Runner:
    """Something that starts a site, and what it tells about the process it starts."""

    site: str  # "service `celeryworker` of docker-compose.local.yml"; "" when unknown
    context: LaunchContext


def policy_options(options: Options) -> Options:
    """The options under which the policy decides for a site rule: a site rule covers both the
    worker (CF101) and the beat (CF102) concerns, whatever is selected for compose files."""
    return replace(options, enabled=frozenset({WORKER_RULE, BEAT_RULE}))


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _flags(plan: FlagPlan) -> str:
    return " ".join(flag for flag, _ in plan.flags)


def plan_found(
    relpath: str,
    text: str,
    found: Iterable[tuple[Found | Wrapped, int]],
    runners: Sequence[Runner],
    options: Options,
    rule: str,
    edit_for: EditMaker,
) -> SitePlan:
    """Edits and notes of `rule` for the invocations found in one file, started by `runners`.

    `found` pairs each finding with the offset of the command it was found in (for notes).
    """
    plan = SitePlan()
    policy = policy_options(options)

    def note(offset: int, message: str) -> None:
        plan.notes.append(Note(relpath, _line(text, offset), rule, NoteKind.SKIP, message))

    for item, command_offset in found:
        if isinstance(item, Wrapped):
            tool = item.tool
            note(
                command_offset,
                f"`{tool} celery ...` is {tool}'s own command, not Celery's; left alone",
            )
            continue
        if item.invocation.app:
            plan.app_names.append(item.invocation.app)
        decisions = [(r, plan_flags(item.invocation, r.context, policy)) for r in runners]
        offset = item.last.offset
        flag_plans = {d for _, d in decisions if isinstance(d, FlagPlan)}
        leaves = [(r, d) for r, d in decisions if isinstance(d, LeaveAlone)]
        if len(flag_plans) == 1 and not leaves:
            chosen = flag_plans.pop()
            edit = edit_for(item.last, FlagPlan(tuple((flag, rule) for flag, _ in chosen.flags)))
            if edit is None:
                note(offset, "the command is written in a form celeryfix cannot edit byte-exactly")
            else:
                plan.edits.append(edit)
        elif leaves and not flag_plans:
            for message in _leave_messages(leaves):
                note(offset, message)
        elif leaves or flag_plans:
            note(offset, _disagreement(decisions))
    return plan


def _leave_messages(leaves: list[tuple[Runner, LeaveAlone]]) -> list[str]:
    """One message per reason, naming the runners it applies to."""
    by_reason: dict[str, list[str]] = {}
    for runner, leave in leaves:
        by_reason.setdefault(leave.reason, []).append(runner.site)
    messages = []
    for reason, sites in by_reason.items():
        named = ", ".join(dict.fromkeys(site for site in sites if site))
        messages.append(f"{reason} (started by {named})" if named else reason)
    return messages


def _disagreement(decisions: list[tuple[Runner, FlagPlan | LeaveAlone | None]]) -> str:
    """Runners that need different changes: what each would need."""
    parts = [
        f"{r.site} would need {_flags(d)}" if isinstance(d, FlagPlan) else f"{r.site}: {d.reason}"
        for r, d in decisions
        if d is not None
    ]
    return "started by several runners that need different changes, left alone: " + "; ".join(
        dict.fromkeys(parts)
    )
