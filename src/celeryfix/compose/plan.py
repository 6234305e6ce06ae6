"""Plan the CF101/CF102 edits of a repository's compose files.

For each service of a compose file that mentions Celery: build the argv (`entrypoint` +
`command`), find the worker and beat invocations, ask the privilege-drop policy what to add, and
splice it in where the last token of the invocation is written. A command written once and used
by several services (an anchor) is edited once, and only when every service agrees.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from celeryfix.compose.argv import node_tokens
from celeryfix.compose.document import (
    ComposeSyntaxError,
    compose_documents,
    get,
    looks_like_template,
    scalar,
)
from celeryfix.compose.services import ComposeService, non_root_user, services_of
from celeryfix.config import Options
from celeryfix.dockerfile import base_image, final_entrypoint, final_user
from celeryfix.edits import apply_edits
from celeryfix.flag_edits import flag_edit
from celeryfix.invocations import is_unknown_variable
from celeryfix.launch import Found, Wrapped, find_invocations
from celeryfix.models import Edit, Note, NoteKind
from celeryfix.privilege_drop import (
    FlagPlan,
    LaunchContext,
    LeaveAlone,
    concerned_rules,
    plan_flags,
)
from celeryfix.shellwords import ShellSyntaxError
from celeryfix.textfile import TextFile
from celeryfix.tokens import ArgvToken

# Entrypoints of images whose `celery` subcommand is their own CLI, not Celery's.
WRAPPER_IMAGES = re.compile(
    r"(^|/)(airflow|apache/airflow|nautobot|superset)([:/]|$)", re.IGNORECASE
)
_NOT_CELERY_ENTRYPOINTS = frozenset({"airflow", "nautobot-server", "superset", "flower"})


class ComposeError(Exception):
    """A compose file that matters cannot be read: path, line, message."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


@dataclass(frozen=True)
class ServiceLaunch:
    """What a compose service runs and as whom: for the planners of the files it runs
    (a start script named by `command:`, the Dockerfile that builds its image)."""

    file: str
    name: str
    line: int
    argv: tuple[str, ...]  # entrypoint + command, as compose splits them
    context: LaunchContext  # non-root user, base image, fileless scheduler
    dockerfile: str | None  # repository-relative Dockerfile that builds the image
    build_context: str | None  # repository-relative build context folder
    working_dir: str | None


@dataclass
class ComposePlan:
    services: list[ServiceLaunch] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    app_names: list[str] = field(default_factory=list)
    settings_modules: list[str] = field(default_factory=list)
    source_roots: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Outcome:
    service: ComposeService
    rule: str
    edit: Edit | None
    reason: str | None
    line: int
    site: tuple[str, int]  # where the invocation's last token is written


def _line_of(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


class _Repository:
    """The compose files of a repository, parsed once, with the Dockerfiles they build."""

    def __init__(
        self, files: Mapping[str, TextFile], read_text: Callable[[str], str | None]
    ) -> None:
        self.files = files
        self.read_text = read_text
        self.documents: dict[str, list[Node]] = {}
        self._dockerfiles: dict[str, str | None] = {}

    def parse(self, relpath: str) -> list[Node]:
        if relpath not in self.documents:
            try:
                self.documents[relpath] = compose_documents(self.files[relpath].text)
            except ComposeSyntaxError as error:
                raise ComposeError(relpath, error.line, f"invalid YAML: {error.message}") from None
        return self.documents[relpath]

    def services(self, relpath: str) -> list[ComposeService]:
        return [s for doc in self.parse(relpath) for s in services_of(relpath, doc)]

    def dockerfile(self, service: ComposeService) -> str | None:
        path = service.build_dockerfile()
        if path is None:
            return None
        if path not in self._dockerfiles:
            self._dockerfiles[path] = self.read_text(path)
        return self._dockerfiles[path]

    def siblings(self, service: ComposeService) -> list[ComposeService]:
        """The same service in the other compose files of its folder (they may be combined)."""
        return [
            other
            for relpath in self.files
            if relpath != service.file
            and posixpath.dirname(relpath) == service.folder
            and relpath in self.documents
            for other in self.services(relpath)
            if other.name == service.name
        ]


def _runs_as_non_root(repo: _Repository, service: ComposeService) -> str | None:
    """Who the service already runs as, when that is not root (with where it is said)."""
    own = service.value("user")
    if own is not None:
        user = scalar(own)
        return f"user: {user} in {service.file}" if non_root_user(user) else None
    for other in repo.siblings(service):
        if non_root_user(other.user):
            return f"user: {other.user} in {other.file}"
    dockerfile = repo.dockerfile(service)
    if dockerfile is not None:
        user = final_user(dockerfile)
        if non_root_user(user):
            return f"USER {user} in {service.build_dockerfile()}"
    return None


def _image(repo: _Repository, service: ComposeService) -> str | None:
    dockerfile = repo.dockerfile(service)
    if dockerfile is not None:
        return base_image(dockerfile)
    return service.image


def _image_wrapper(repo: _Repository, service: ComposeService) -> str | None:
    """The image's own CLI when its ENTRYPOINT makes `celery ...` a subcommand of it."""
    if service.value("entrypoint") is not None:
        return None
    dockerfile = repo.dockerfile(service)
    if dockerfile is not None:
        entrypoint = final_entrypoint(dockerfile)
        if entrypoint is not None:
            words = re.findall(r"[\w./-]+", entrypoint.arguments)
            program = posixpath.basename(words[0]) if words else ""
            return program if program in _NOT_CELERY_ENTRYPOINTS else None
    image = service.image or ""
    match = WRAPPER_IMAGES.search(image)
    return match.group(2).rsplit("/", 1)[-1] if match else None


def _service_tokens(file: TextFile, service: ComposeService) -> list[ArgvToken]:
    tokens = []
    for key in ("entrypoint", "command"):
        try:
            tokens += node_tokens(file.text, service.value(key))
        except ShellSyntaxError as error:
            raise ComposeError(
                file.relpath,
                service.line,
                f"service `{service.name}`: invalid command line string in `{key}:` ({error})",
            ) from None
    return tokens


def _plan_service(
    repo: _Repository,
    file: TextFile,
    service: ComposeService,
    options: Options,
    fileless: bool,
    plan: ComposePlan,
) -> list[_Outcome]:
    tokens = _service_tokens(file, service)
    line = service.line
    context = LaunchContext(_runs_as_non_root(repo, service), _image(repo, service), fileless)
    plan.services.append(
        ServiceLaunch(
            file.relpath,
            service.name,
            line,
            tuple(token.value for token in tokens),
            context,
            service.build_dockerfile(),
            service.build_context(),
            scalar(service.value("working_dir")),
        )
    )

    def skip(message: str) -> None:
        plan.notes.append(
            Note(file.relpath, line, "CF101", NoteKind.SKIP, f"service `{service.name}`: {message}")
        )

    if not tokens:
        return []  # runs the image's own ENTRYPOINT/CMD: the Dockerfile planner decides
    if is_unknown_variable([token.value for token in tokens]):
        skip(f"the command is the variable {tokens[0].value}, whose value is unknown")
        return []
    wrapper = _image_wrapper(repo, service)
    outcomes = []
    for found in find_invocations(tokens):
        if isinstance(found, Wrapped):
            skip(
                f"`{found.tool} celery ...` is {found.tool}'s own command, not Celery's; left alone"
            )
            continue
        invocation = found.invocation
        if invocation.app:
            plan.app_names.append(invocation.app)
        if wrapper and concerned_rules(invocation):
            skip(
                f"the image's entrypoint is `{wrapper}`, so `celery ...` is {wrapper}'s own"
                " subcommand, not Celery's; left alone"
            )
            continue
        decision = plan_flags(invocation, context, options)
        last = found.last
        site, token_line = (file.relpath, last.offset), _line_of(file.text, last.offset)
        if isinstance(decision, LeaveAlone):
            outcomes.append(
                _Outcome(service, decision.rule, None, decision.reason, token_line, site)
            )
        elif isinstance(decision, FlagPlan):
            edit = flag_edit(file.relpath, file.text, file.newline, last, decision)
            reason = (
                None
                if edit
                else "the command is written in a form celeryfix cannot edit byte-exactly"
            )
            outcomes.append(_Outcome(service, decision.rules[0], edit, reason, token_line, site))
    return outcomes


def _hints(service: ComposeService, plan: ComposePlan) -> None:
    module = service.environment().get("DJANGO_SETTINGS_MODULE")
    if module and "$" not in module:
        plan.settings_modules.append(module.strip().strip("\"'"))
    context = service.build_context()
    if context is not None:
        plan.source_roots.append(context)


def plan_compose(
    files: Mapping[str, TextFile],
    read_text: Callable[[str], str | None],
    options: Options,
    fileless_scheduler: bool = False,
) -> ComposePlan:
    """Edits and notes for every compose file of a repository (`files`: relpath -> file)."""
    plan = ComposePlan()
    repo = _Repository(files, read_text)
    mentions = {relpath for relpath, file in files.items() if "celery" in file.text.lower()}
    parsed = []
    for relpath in sorted(files):
        if looks_like_template(files[relpath].text):
            if relpath in mentions:
                plan.notes.append(
                    Note(
                        relpath,
                        1,
                        "CF101",
                        NoteKind.SKIP,
                        "a template (Jinja markup), not YAML: left alone",
                    )
                )
        elif relpath in mentions:
            repo.parse(relpath)  # a compose file that runs Celery must be valid YAML
            parsed.append(relpath)
        elif _parse_other(repo, relpath, plan):
            parsed.append(relpath)  # read for `user:`, and for the scripts its services run
    outcomes: list[_Outcome] = []
    for relpath in parsed:
        _report_includes(repo, relpath, plan)
        for service in repo.services(relpath):
            _report_extends(service, plan)
            outcomes.extend(
                _plan_service(repo, files[relpath], service, options, fileless_scheduler, plan)
            )
            _hints(service, plan)
    _settle(outcomes, plan)
    _keep_edits_that_do_what_they_say(repo, plan)
    return plan


_ADDED = re.compile(r"--(uid|gid|schedule|schedule-filename)=\S+")


def _invocation_words(file: TextFile, services: list[ComposeService]) -> list[tuple[str, ...]]:
    """The Celery invocations written in the file, once each (an anchored command shared by
    several services is written once), as the words a shell would pass to Celery."""
    words: dict[tuple[int, int], tuple[str, ...]] = {}
    for service in services:
        for index, found in enumerate(find_invocations(_service_tokens(file, service))):
            if isinstance(found, Found):
                tokens = found.tokens[found.invocation.program_index :]
                words.setdefault((tokens[0].offset, index), tuple(t.value for t in tokens))
    return list(words.values())


def _flags_gained(old: tuple[str, ...], new: tuple[str, ...]) -> int:
    """How many added options `new` has over `old` in one run; -1 when it differs otherwise."""
    added = len(new) - len(old)
    if added == 0:
        return 0 if old == new else -1
    for end in range(len(old) + 1) if added > 0 else ():
        if new[:end] == old[:end] and new[end + added :] == old[end:]:
            return added if all(_ADDED.fullmatch(w) for w in new[end : end + added]) else -1
    return -1


def _keep_edits_that_do_what_they_say(repo: _Repository, plan: ComposePlan) -> None:
    """Re-read each edited compose file as compose and a shell would: every Celery invocation
    must be the old one plus the added options, else the file's edits are dropped (a quote or
    escape in the command put them where Celery would not see them)."""
    by_file: dict[str, list[Edit]] = defaultdict(list)
    for edit in plan.edits:
        by_file[edit.path].append(edit)
    for relpath, edits in by_file.items():
        old_file = repo.files[relpath]
        new_text = apply_edits(old_file.text, edits)
        new_file = replace(old_file, text=new_text)
        try:
            new_services = [
                s for doc in compose_documents(new_text) for s in services_of(relpath, doc)
            ]
            old_words = _invocation_words(old_file, repo.services(relpath))
            new_words = _invocation_words(new_file, new_services)
            gained = [
                _flags_gained(old, new) for old, new in zip(old_words, new_words, strict=True)
            ]
            planned = sum(len(_ADDED.findall(edit.text)) for edit in edits)
            # Every planned option must reach a Celery invocation: one that lands outside
            # the `sh -c` script (after a closing quote) reaches no invocation at all.
            sound = len(old_words) == len(new_words) and -1 not in gained and sum(gained) == planned
        except (ComposeSyntaxError, ComposeError):
            sound = False
        if not sound:
            plan.edits = [edit for edit in plan.edits if edit.path != relpath]
            plan.notes.append(
                Note(
                    relpath,
                    _line_of(old_file.text, edits[0].start),
                    edits[0].rule.split("+")[0],
                    NoteKind.SKIP,
                    "the command's quoting does not let celeryfix add the options where Celery would see them: left alone; add them by hand",
                )
            )


def _report_includes(repo: _Repository, relpath: str, plan: ComposePlan) -> None:
    """`include:` pulls in other compose files: each is fixed where it is written, if celeryfix
    reads it (it does when its name is a compose file name)."""
    for document in repo.parse(relpath):
        include = get(document, "include")
        entries = include.value if isinstance(include, SequenceNode) else []
        for entry in entries:
            path = scalar(entry) or scalar(get(entry, "path"))
            if (
                path
                and posixpath.normpath(posixpath.join(posixpath.dirname(relpath), path))
                not in repo.files
            ):
                plan.notes.append(
                    Note(
                        relpath,
                        int(entry.start_mark.line) + 1,
                        "CF101",
                        NoteKind.INFO,
                        f"`include: {path}` is not read (not a compose file name in this repository): check its workers by hand",
                    )
                )


def _report_extends(service: ComposeService, plan: ComposePlan) -> None:
    """A service that `extends:` another and sets no command runs the other's: it is fixed where
    that command is written (when celeryfix reads that file), with this service's user unknown."""
    extends = service.value("extends")
    if (
        extends is None
        or service.value("command") is not None
        or service.value("entrypoint") is not None
    ):
        return
    base = scalar(extends) or scalar(get(extends, "service"))
    source = scalar(get(extends, "file")) if isinstance(extends, MappingNode) else None
    where = f"service `{base}`" + (f" of {source}" if source else "")
    plan.notes.append(
        Note(
            service.file,
            service.line,
            "CF101",
            NoteKind.INFO,
            f"service `{service.name}` runs the command of {where} (extends): it is fixed where it is written; if `{service.name}` runs as another user than `{base}`, check it by hand",
        )
    )


def _parse_other(repo: _Repository, relpath: str, plan: ComposePlan) -> bool:
    """A compose file that does not mention Celery: read for its `user:` settings and the
    scripts its services start; a broken one costs a note, not the repository."""
    try:
        repo.parse(relpath)
        return True
    except ComposeError as error:
        plan.notes.append(
            Note(
                relpath,
                error.line,
                "CF101",
                NoteKind.SKIP,
                f"not read ({error.message}): a `user:` it sets is not taken into account",
            )
        )
        return False


def _settle(outcomes: list[_Outcome], plan: ComposePlan) -> None:
    """Edits that every service sharing the written command agrees on; notes for the rest."""
    by_site: dict[tuple[str, int], list[_Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_site[outcome.site].append(outcome)
    for (path, _), group in sorted(by_site.items()):
        edits = {o.edit for o in group}
        if len(edits) > 1:
            names = ", ".join(sorted({o.service.name for o in group}))
            plan.notes.append(
                Note(
                    path,
                    group[0].line,
                    group[0].rule,
                    NoteKind.SKIP,
                    f"the command is written once and shared by services ({names}) that need different changes: left alone",
                )
            )
            continue
        edit = group[0].edit
        if edit is not None:
            plan.edits.append(edit)
            continue
        for outcome in group:
            plan.notes.append(
                Note(
                    path,
                    outcome.line,
                    outcome.rule,
                    NoteKind.SKIP,
                    f"service `{outcome.service.name}`: {outcome.reason}",
                )
            )
