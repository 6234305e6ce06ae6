"""CF105: Celery workers and beats that Procfiles and Render's render.yaml start (unsafe).

A Procfile line is `name: command`, run by a shell (Heroku, Dokku, honcho, foreman); Render's
Blueprint runs a service's `startCommand` (native runtimes) or `dockerCommand` (Docker runtime).
Heroku dynos already run as a non-root user, and there `--uid` makes the worker fail at start
(`PermissionError: [Errno 1] Operation not permitted`). So CF105 edits only when selected by id;
otherwise every worker or beat it would fix is reported with that reason and how to opt in.
"""

from __future__ import annotations

import posixpath
import re
from typing import TYPE_CHECKING

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from celeryfix.compose.document import (
    ComposeSyntaxError,
    compose_documents,
    get,
    looks_like_template,
    scalar,
)
from celeryfix.compose.scalars import UnmappableScalar, scalar_value_map
from celeryfix.flag_edits import flag_edit
from celeryfix.models import Edit, Note, NoteKind
from celeryfix.privilege_drop import FlagPlan, LaunchContext
from celeryfix.shellwords import ShellSyntaxError
from celeryfix.sites import SitePlan
from celeryfix.sites.dockerfile_launch import image_context
from celeryfix.sites.launch_decision import Runner, plan_found
from celeryfix.sites.site_plans import (
    Checker,
    SiteMode,
    flags_of,
    invocations_of,
    line_of,
    merge,
    settle_edits,
    shell_commands,
    skip,
    unsafe_site_mode,
    yaml_checker,
)
from celeryfix.textmap import MappedText
from celeryfix.tokens import ArgvToken
from celeryfix.verify import VerificationError, verify_shell

if TYPE_CHECKING:
    from celeryfix.config import Options
    from celeryfix.engine import RepoContext

RULE = "CF105"
PROCFILE = re.compile(r"Procfile([.-][\w.-]+)?")
RENDER_BLUEPRINT = re.compile(r"render\.ya?ml")
# A process line as honcho and foreman read it: `^([A-Za-z0-9_-]+):\s*(.+)$`. A commented-out
# line (`# worker: ...`) does not match, so it is never read.
_PROCESS = re.compile(r"([A-Za-z0-9_-]+):[ \t]*(.*\S.*)")
_RENDER_COMMANDS = ("dockerCommand", "startCommand")
PERMISSION_ERROR = (
    "--uid makes Celery fail at start with `PermissionError: [Errno 1] Operation not permitted`"
)
PROCFILE_WHY = (
    "Heroku runs Procfile processes as a non-root user (so may Dokku and other Procfile"
    " platforms), and there " + PERMISSION_ERROR
)
RENDER_WHY = (
    "on Render a native runtime decides who runs `startCommand`, and a Docker service runs"
    " `dockerCommand` as its image's user; where that is not root, " + PERMISSION_ERROR
)


# --- CF105 -----------------------------------------------------------------------------------


def plan_site(context: RepoContext, options: Options) -> SitePlan:
    """CF105 edits (selected) or reports (not selected) for Procfiles and render.yaml files."""
    mode = unsafe_site_mode(options, RULE)
    if mode is None:
        return SitePlan()
    plans = []
    for relpath in context.files.other:
        name = posixpath.basename(relpath)
        if PROCFILE.fullmatch(name):
            plans.append(_plan_procfile(context, relpath, options, mode))
        elif RENDER_BLUEPRINT.fullmatch(name):
            plans.append(_plan_render(context, relpath, options, mode))
    return merge(plans)


def _finish(
    relpath: str, text: str, plan: SitePlan, mode: SiteMode, why: str, check: Checker
) -> SitePlan:
    """Edits checked (EDIT), or each turned into a note saying why it is not made (REPORT)."""
    if mode is SiteMode.EDIT:
        settled = settle_edits(relpath, text, plan.edits, RULE, check)
        return SitePlan(settled.edits, plan.notes + settled.notes)
    notes = [
        Note(
            relpath,
            line_of(text, edit.start),
            RULE,
            NoteKind.SKIP,
            f"left alone: {why}. Where it runs as root, `celeryfix --select {RULE}` adds"
            f" `{flags_of(edit)}`",
        )
        for edit in dict.fromkeys(plan.edits)
    ]
    return SitePlan([], plan.notes + notes)


def _plan_procfile(
    context: RepoContext, relpath: str, options: Options, mode: SiteMode
) -> SitePlan:
    text = context.read_text(relpath)
    if text is None or "celery" not in text.lower():
        return SitePlan()
    if looks_like_template(text):
        return skip(relpath, RULE, "a template (Jinja markup), not a Procfile: left alone")
    newline = context.read(relpath).newline
    fileless = context.fileless_scheduler

    def edit_for(token: ArgvToken, flags: FlagPlan) -> Edit | None:
        return flag_edit(relpath, text, newline, token, flags)

    plan = SitePlan()
    offset = 0
    for line in text.split("\n"):
        start, offset = offset, offset + len(line) + 1
        match = _PROCESS.fullmatch(line.removesuffix("\r"))
        if match is None:
            continue
        command = match.group(2)
        try:
            commands = shell_commands(MappedText.identity(command, start + match.start(2)), "")
        except ShellSyntaxError as error:
            if "celery" in command.lower():
                plan.notes += skip(
                    relpath,
                    RULE,
                    f"cannot be read reliably as a shell command ({error}): left alone",
                    line_of(text, start),
                ).notes
            continue
        runner = Runner(
            f"process `{match.group(1)}` of {relpath}", LaunchContext(fileless_scheduler=fileless)
        )
        found = plan_found(
            relpath, text, invocations_of(commands), [runner], options, RULE, edit_for
        )
        plan = merge([plan, found])
    return _finish(relpath, text, plan, mode, PROCFILE_WHY, _check_procfile(relpath))


def _check_procfile(relpath: str) -> Checker:
    """Each edited process line, read again as the shell reads it, is the old one plus the
    options inserted into it; the process names and every other line are unchanged."""

    def check(old: str, new: str, edits: list[Edit]) -> None:
        old_lines, new_lines = old.split("\n"), new.split("\n")
        if len(old_lines) != len(new_lines):
            raise VerificationError(f"{relpath}: the fixed Procfile has other lines")
        start = 0
        for before, after in zip(old_lines, new_lines, strict=True):
            end, start = start + len(before), start + len(before) + 1
            if before == after:
                continue
            was = _PROCESS.fullmatch(before.removesuffix("\r"))
            now = _PROCESS.fullmatch(after.removesuffix("\r"))
            if was is None or now is None or was.group(1) != now.group(1):
                raise VerificationError(f"{relpath}: a fixed line is no longer the same process")
            inserted = [edit for edit in edits if end - len(before) <= edit.start <= end]
            verify_shell(relpath, was.group(2), now.group(2), inserted)

    return check


# --- render.yaml ---------------------------------------------------------------------------


def _render_services(document: Node) -> list[MappingNode]:
    """`services:` of a Blueprint, also those of `projects: [{environments: [{services}]}]`."""
    found: list[MappingNode] = []
    holders: list[Node | None] = [document]
    for project in _items(get(document, "projects")):
        holders += _items(get(project, "environments"))
    for holder in holders:
        found += [s for s in _items(get(holder, "services")) if isinstance(s, MappingNode)]
    return found


def _items(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def _render_context(
    context: RepoContext, relpath: str, service: MappingNode, key: str
) -> LaunchContext:
    """Docker services: who the image's Dockerfile runs as, and its base image."""
    fileless = context.fileless_scheduler
    if key != "dockerCommand":
        return LaunchContext(fileless_scheduler=fileless)
    folder = posixpath.dirname(relpath)
    root_dir = scalar(get(service, "rootDir")) or ""
    given = scalar(get(service, "dockerfilePath"))
    candidates = (
        [posixpath.join(folder, given), posixpath.join(folder, root_dir, given)]
        if given
        else [posixpath.join(folder, root_dir, "Dockerfile")]
    )
    for candidate in candidates:
        path = posixpath.normpath(candidate).lstrip("/")
        dockerfile = context.read_text(path) if not path.startswith("..") else None
        if dockerfile is not None:
            return image_context(path, dockerfile, fileless)
    image = scalar(get(get(service, "image"), "url"))
    return LaunchContext(image=image, fileless_scheduler=fileless)


def _plan_render(context: RepoContext, relpath: str, options: Options, mode: SiteMode) -> SitePlan:
    text = context.read_text(relpath)
    if text is None or "celery" not in text.lower():
        return SitePlan()
    if looks_like_template(text):
        return skip(relpath, RULE, "a template (Jinja markup), not YAML: left alone")
    try:
        documents = compose_documents(text)
    except ComposeSyntaxError as error:
        return skip(relpath, RULE, f"not valid YAML ({error}): left alone", error.line)
    newline = context.read(relpath).newline

    def edit_for(token: ArgvToken, flags: FlagPlan) -> Edit | None:
        return flag_edit(relpath, text, newline, token, flags)

    plans = []
    for service in (s for document in documents for s in _render_services(document)):
        name = scalar(get(service, "name")) or "?"
        for key in _RENDER_COMMANDS:
            node = get(service, key)
            if not isinstance(node, ScalarNode) or not scalar(node):
                continue
            try:
                layer: MappedText | None = scalar_value_map(text, node)
            except UnmappableScalar:
                layer = None
            line = int(node.start_mark.line) + 1
            try:
                commands = shell_commands(layer, str(node.value).replace("\a", ""))
            except ShellSyntaxError as error:
                plans.append(
                    skip(
                        relpath,
                        RULE,
                        f"`{key}` of service `{name}` cannot be read"
                        f" reliably as a shell command ({error}): left alone",
                        line,
                    )
                )
                continue
            runner = Runner(
                f"`{key}` of service `{name}`", _render_context(context, relpath, service, key)
            )
            plans.append(
                plan_found(
                    relpath, text, invocations_of(commands), [runner], options, RULE, edit_for
                )
            )
    return _finish(relpath, text, merge(plans), mode, RENDER_WHY, yaml_checker(relpath))
