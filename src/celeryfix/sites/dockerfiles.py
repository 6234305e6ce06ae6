"""CF104: Celery workers and beats that a Dockerfile's CMD/ENTRYPOINT starts as root.

The image's default command (ENTRYPOINT + CMD of the final stage) runs as the final USER. A compose
`command:` replaces the CMD in its service, but the CMD is still what `docker run IMAGE` and
orchestrators without a command of their own start, so it is decided by the image's USER; the
ENTRYPOINT also runs in every compose service built from the Dockerfile that keeps it, so those
services, and who they run as, count too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from celeryfix.compose.document import looks_like_template
from celeryfix.compose.plan import ServiceLaunch
from celeryfix.flag_edits import flag_edit
from celeryfix.launch import Found, Wrapped, find_invocations
from celeryfix.models import Edit, Note, NoteKind
from celeryfix.privilege_drop import FlagPlan
from celeryfix.sites import SitePlan
from celeryfix.sites.dockerfile_launch import (
    ImageLaunch,
    image_context,
    image_launch,
    launch_argv,
)
from celeryfix.sites.launch_decision import Runner, plan_found
from celeryfix.sites.site_plans import merge
from celeryfix.tokens import ArgvToken

if TYPE_CHECKING:
    from celeryfix.config import Options
    from celeryfix.engine import RepoContext

RULE = "CF104"


def plan_site(context: RepoContext, options: Options) -> SitePlan:
    """CF104 edits and notes for every Dockerfile whose default command runs a worker or beat."""
    if not options.is_enabled(RULE):
        return SitePlan()
    return merge(
        _plan_dockerfile(
            context,
            relpath,
            [s for s in context.compose.services if s.dockerfile == relpath],
            options,
        )
        for relpath in context.files.dockerfiles
    )


def _plan_dockerfile(
    context: RepoContext, relpath: str, services: list[ServiceLaunch], options: Options
) -> SitePlan:
    text = context.read_text(relpath)
    if text is None or "celery" not in text:
        return SitePlan()
    if looks_like_template(text) or looks_like_template(relpath):
        message = "a template (Jinja markup), not a Dockerfile: left alone"
        return SitePlan(notes=[Note(relpath, 1, RULE, NoteKind.SKIP, message)])
    launch = image_launch(text)
    argv = launch_argv(text, launch)
    newline = context.read(relpath).newline
    image = Runner(
        f"the image of {relpath}", image_context(relpath, text, context.fileless_scheduler)
    )

    def edit_for(token: ArgvToken, flags: FlagPlan) -> Edit | None:
        separator = argv.json_items.get(token.after) if token.after is not None else None
        if separator is None or token.after is None:
            return flag_edit(relpath, text, newline, token, flags)
        items = "".join(f'{separator}"{flag}"' for flag, _ in flags.flags)
        return Edit(relpath, token.after, token.after, items, "+".join(flags.rules))

    plan = SitePlan()
    command_offset = _first_offset(launch)
    for found in find_invocations(argv.tokens):
        runners = [image]
        if _in_entrypoint(launch, found):
            runners += [Runner(f"service `{s.name}` of {s.file}", s.context) for s in services]
        else:  # the CMD runs only where the service sets neither command nor entrypoint
            runners += [
                Runner(f"service `{s.name}` of {s.file}", s.context) for s in services if not s.argv
            ]
        one = plan_found(relpath, text, [(found, command_offset)], runners, options, RULE, edit_for)
        plan.edits += one.edits
        plan.notes += one.notes
    return plan


def _first_offset(launch: ImageLaunch) -> int:
    instruction = launch.entrypoint or launch.cmd
    return instruction.start if instruction is not None else 0


def _in_entrypoint(launch: ImageLaunch, found: Found | Wrapped) -> bool:
    """Whether the invocation's options are appended inside the ENTRYPOINT instruction."""
    entrypoint = launch.entrypoint
    if entrypoint is None or not isinstance(found, Found):
        return False
    return entrypoint.start <= found.last.offset <= entrypoint.end
