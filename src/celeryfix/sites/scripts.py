"""CF103: Celery workers and beats that shell start scripts launch as root.

The scripts are those compose services, Dockerfiles, Procfiles and other scripts start
(celeryfix.sites.script_links), and every `*.sh` or shebang'd extension-less file. Who starts a
script decides (celeryfix.sites.launch_decision); a script nothing is known to start is decided
by the images that copy it in, else edited as if it ran as root, with a note saying so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from celeryfix.compose.document import looks_like_template
from celeryfix.flag_edits import flag_edit
from celeryfix.models import Edit, Note, NoteKind
from celeryfix.privilege_drop import FlagPlan, LaunchContext
from celeryfix.shellwords import ShellSyntaxError
from celeryfix.sites import SitePlan
from celeryfix.sites.launch_decision import Runner, plan_found
from celeryfix.sites.script_links import ScriptLinks, script_links
from celeryfix.sites.script_text import script_commands, script_invocations
from celeryfix.sites.site_plans import merge
from celeryfix.tokens import ArgvToken

if TYPE_CHECKING:
    from celeryfix.config import Options
    from celeryfix.engine import RepoContext

RULE = "CF103"
ASSUMED_ROOT = (
    "nothing celeryfix reads is known to start this script (a compose service, a Dockerfile's"
    " ENTRYPOINT/CMD, a Procfile, another script): the flags were added on the assumption that"
    " it runs as root; if it runs as a non-root user, --uid makes the worker fail with"
    " `PermissionError` (exclude the file)"
)


def plan_site(context: RepoContext, options: Options) -> SitePlan:
    """CF103 edits and notes for every shell script that starts a Celery worker or beat."""
    if not options.is_enabled(RULE):
        return SitePlan()
    links = script_links(context)
    return merge(
        _plan_script(context, links, relpath, options)
        for relpath in sorted(set(links.runners) | set(context.files.scripts))
    )


def _plan_script(
    context: RepoContext, links: ScriptLinks, relpath: str, options: Options
) -> SitePlan:
    text = context.read_text(relpath)
    if text is None or "celery" not in text:
        return SitePlan()
    if looks_like_template(text) or looks_like_template(relpath):
        # A template repository's folder names hold the markup even where its files do not.
        return _skip(relpath, "a template (Jinja markup), not a shell script: left alone")
    try:
        commands = script_commands(text)
    except ShellSyntaxError as error:
        return _skip(relpath, f"cannot be read reliably as a shell script ({error}): left alone")
    found = script_invocations(commands)
    runners = links.runners.get(relpath, [])
    assumed = not runners
    if assumed:
        runners = links.holders(relpath) or [
            Runner("", LaunchContext(fileless_scheduler=context.fileless_scheduler))
        ]
    newline = context.read(relpath).newline

    def edit_for(token: ArgvToken, flags: FlagPlan) -> Edit | None:
        return flag_edit(relpath, text, newline, token, flags)

    plan = plan_found(relpath, text, found, runners, options, RULE, edit_for)
    if assumed and plan.edits:
        plan.notes.append(Note(relpath, 1, RULE, NoteKind.INFO, ASSUMED_ROOT))
    return plan


def _skip(relpath: str, message: str) -> SitePlan:
    return SitePlan(notes=[Note(relpath, 1, RULE, NoteKind.SKIP, message)])
