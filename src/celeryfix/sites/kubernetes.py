"""CF107: Celery workers and beats that Kubernetes manifests run as root (unsafe).

A container runs `command` (the image's ENTRYPOINT when absent) followed by `args` (its CMD when
absent), as the user its securityContext names (container level over pod level), else as the
image's own user: root unless the image sets USER. The idiomatic fix is a securityContext
(`runAsNonRoot: true`, `runAsUser`), which celeryfix cannot choose without knowing the image; so
by default CF107 reports each worker or beat container that may run as root and recommends one.
Selected by id, it adds the options to the container's `command`/`args` list instead.

Manifests are the `.yaml`/`.yml` files (not compose files) that mention Celery and hold
`apiVersion:` and `kind:`; every document of a multi-document file is read. Helm templates
(`{{ ... }}`) are not YAML: skipped with a reason. Other YAML files are never reported.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from celeryfix.compose.argv import node_tokens
from celeryfix.compose.document import (
    MAX_COMPOSE_BYTES,
    ComposeSyntaxError,
    compose_documents,
    get,
    looks_like_template,
    scalar,
)
from celeryfix.compose.plan import WRAPPER_IMAGES
from celeryfix.flag_edits import flag_edit
from celeryfix.invocations import is_unknown_variable
from celeryfix.models import Edit, Note, NoteKind
from celeryfix.privilege_drop import FlagPlan, LaunchContext
from celeryfix.sites import SitePlan
from celeryfix.sites.launch_decision import Runner, plan_found
from celeryfix.sites.procfile import RENDER_BLUEPRINT
from celeryfix.sites.site_plans import (
    SiteMode,
    flags_of,
    invocations_of,
    line_of,
    merge,
    settle_edits,
    skip,
    unsafe_site_mode,
    yaml_checker,
)
from celeryfix.tokens import ArgvToken

if TYPE_CHECKING:
    from celeryfix.config import Options
    from celeryfix.engine import RepoContext

RULE = "CF107"
_KIND = re.compile(r"^[ \t-]*kind:[ \t]*\S", re.MULTILINE)
_API_VERSION = re.compile(r"^[ \t-]*apiVersion:[ \t]*\S", re.MULTILINE)
# YAML 1.1 booleans, as Kubernetes' YAML reader (go-yaml v2 through sigs.k8s.io/yaml) reads them.
_TRUE = frozenset({"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"})
_CRONJOB_POD = ("jobTemplate", "spec", "template", "spec")


@dataclass(frozen=True)
class Container:
    """One container of a workload, and what its manifest says about who it runs as."""

    site: str  # "container `worker` of Deployment `celery`"
    image: str | None
    command: Node | None
    args: Node | None
    non_root: str | None  # "runAsUser: 1000 in the pod securityContext"


def plan_site(context: RepoContext, options: Options) -> SitePlan:
    """CF107 reports (default) or edits (selected) for every Kubernetes manifest."""
    mode = unsafe_site_mode(options, RULE)
    if mode is None:
        return SitePlan()
    plans = []
    for relpath in context.files.other:
        name = posixpath.basename(relpath)
        if not name.lower().endswith((".yaml", ".yml")) or RENDER_BLUEPRINT.fullmatch(name):
            continue
        try:
            if (context.root / relpath).stat().st_size > MAX_COMPOSE_BYTES:
                continue
        except OSError:
            continue
        text = context.read_text(relpath)
        if text is None or "celery" not in text.lower():
            continue
        if not (_KIND.search(text) and _API_VERSION.search(text)):
            continue
        plans.append(_plan_manifest(context, relpath, text, options, mode))
    return merge(plans)


def _plan_manifest(
    context: RepoContext, relpath: str, text: str, options: Options, mode: SiteMode
) -> SitePlan:
    if "{{" in text or looks_like_template(text):
        return skip(
            relpath, RULE, "a template (Helm or Jinja `{{ ... }}` markup), not YAML: left alone"
        )
    try:
        documents = compose_documents(text)
    except ComposeSyntaxError as error:
        return skip(relpath, RULE, f"not valid YAML ({error}): left alone", error.line)
    newline = context.read(relpath).newline

    def edit_for(token: ArgvToken, flags: FlagPlan) -> Edit | None:
        return flag_edit(relpath, text, newline, token, flags)

    # Containers that share their command and args nodes (YAML aliases) are decided together.
    groups: dict[tuple[int, int], list[Container]] = {}
    for document in documents:
        for container in _containers(document):
            groups.setdefault((id(container.command), id(container.args)), []).append(container)
    plans = []
    edits: list[Edit] = []
    for containers in groups.values():
        first = containers[0]
        argv = _argv(text, first)
        if not argv or is_unknown_variable([token.value for token in argv]):
            continue
        if first.command is None and any(_wrapper(c.image) for c in containers):
            tool = next(filter(None, (_wrapper(c.image) for c in containers)))
            line = line_of(text, argv[0].offset)
            if any(token.value == "celery" for token in argv):
                message = f"the image's entrypoint is `{tool}`, so `celery ...` is {tool}'s own subcommand, not Celery's; left alone"
                plans.append(skip(relpath, RULE, message, line))
            continue
        runners = [
            Runner(c.site, LaunchContext(c.non_root, c.image, context.fileless_scheduler))
            for c in containers
        ]
        found = plan_found(relpath, text, invocations_of([argv]), runners, options, RULE, edit_for)
        plans.append(SitePlan(notes=found.notes))
        if mode is SiteMode.EDIT:
            edits += found.edits
        else:
            plans.append(_advice(relpath, text, found.edits, containers))
    if mode is SiteMode.EDIT:
        plans.append(settle_edits(relpath, text, edits, RULE, yaml_checker(relpath)))
    return merge(plans)


def _argv(text: str, container: Container) -> list[ArgvToken]:
    """command + args; Kubernetes takes only lists of strings (anything else is left alone)."""
    tokens: list[ArgvToken] = []
    for node in (container.command, container.args):
        if node is None:
            continue
        if not isinstance(node, SequenceNode):
            return []
        items = node_tokens(text, node)
        if len(items) != len(node.value):
            return []
        tokens += items
    return tokens


def _wrapper(image: str | None) -> str | None:
    """The CLI of an image whose entrypoint makes `celery ...` its own subcommand (Airflow)."""
    match = WRAPPER_IMAGES.search(image or "")
    return match.group(2).rsplit("/", 1)[-1] if match else None


def _advice(relpath: str, text: str, edits: list[Edit], containers: list[Container]) -> SitePlan:
    """What CF107 would add, as advice: a securityContext is the idiomatic fix."""
    sites = ", ".join(dict.fromkeys(c.site for c in containers))
    notes = []
    for edit in dict.fromkeys(edits):
        flags = flags_of(edit)
        beat = (
            "; beat then also needs a schedule file it can write"
            " (`--schedule=/tmp/celerybeat-schedule`)"
            if "--schedule" in flags
            else ""
        )
        notes.append(
            Note(
                relpath,
                line_of(text, edit.start),
                RULE,
                NoteKind.ADVICE,
                f"{sites} runs a Celery worker or beat with no non-root securityContext, so as"
                " its image's user (root unless the image sets USER). The idiomatic fix:"
                " `securityContext: {runAsNonRoot: true, runAsUser: <uid>}` on the pod or the"
                f" container{beat}. Or `celeryfix --select {RULE}` adds `{flags}` to its command",
            )
        )
    return SitePlan(notes=notes)


# --- workloads ---------------------------------------------------------------------------


def _path(node: Node | None, *keys: str) -> Node | None:
    for key in keys:
        node = get(node, key)
    return node


def _pod_specs(document: Node, depth: int = 0) -> Iterator[tuple[str, MappingNode]]:
    """(workload description, pod spec) of a document: Pod, CronJob, and every kind with a
    pod template (Deployment, StatefulSet, DaemonSet, Job, ReplicaSet, ...); `kind: List` items."""
    kind = scalar(get(document, "kind"))
    if kind is None or depth > 4:
        return
    if kind == "List":
        for item in _items(get(document, "items")):
            yield from _pod_specs(item, depth + 1)
        return
    name = scalar(_path(document, "metadata", "name")) or "?"
    spec = get(document, "spec")
    if kind == "Pod":
        pod = spec
    elif kind == "CronJob":
        pod = _path(spec, *_CRONJOB_POD)
    else:
        pod = _path(spec, "template", "spec")
    if isinstance(pod, MappingNode):
        yield f"{kind} `{name}`", pod


def _items(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def _containers(document: Node) -> Iterator[Container]:
    for workload, pod in _pod_specs(document):
        pod_context = get(pod, "securityContext")
        for node in _items(get(pod, "containers")):
            if not isinstance(node, MappingNode):
                continue
            name = scalar(get(node, "name")) or "?"
            yield Container(
                f"container `{name}` of {workload}",
                scalar(get(node, "image")),
                get(node, "command"),
                get(node, "args"),
                _non_root(pod_context, get(node, "securityContext")),
            )


def _non_root(pod: Node | None, container: Node | None) -> str | None:
    """Who the container runs as, when its securityContext makes it non-root: runAsUser (the
    container's over the pod's) if set, else runAsNonRoot (the kubelet refuses to start the
    container if the image's user is root)."""
    levels = (("container", container), ("pod", pod))
    for level, context in levels:
        user = get(context, "runAsUser")
        if user is not None:
            value = scalar(user) or ""
            if value.strip().lstrip("+").isdigit() and int(value) == 0:
                return None
            return f"runAsUser: {value} in the {level} securityContext"
    for level, context in levels:
        flag = get(context, "runAsNonRoot")
        if flag is not None:
            if isinstance(flag, ScalarNode) and scalar(flag) in _TRUE:
                return f"runAsNonRoot: true in the {level} securityContext"
            return None
    return None
