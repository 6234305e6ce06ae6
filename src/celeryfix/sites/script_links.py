"""Which shell scripts the repository starts, and who starts them (as whom).

Runners are compose services (`command: /start-celeryworker`, matched through the `COPY` of the
Dockerfile that builds the service's image), Dockerfiles (`ENTRYPOINT ["/entrypoint"]`),
Procfiles, and scripts started by those (`exec /start`, `bash docker/entrypoint.sh worker`,
`. ./env.sh`). A script inherits who its caller runs as, unless the call switches user
(`gosu app /start`). A path is followed only when it names a file of the repository.
"""

from __future__ import annotations

import posixpath
import re
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from celeryfix.compose.document import looks_like_template
from celeryfix.discover import has_shell_shebang
from celeryfix.privilege_drop import LaunchContext
from celeryfix.shellwords import parse_script
from celeryfix.sites.dockerfile_launch import image_context, image_launch, launch_argv
from celeryfix.sites.image_files import ImageFiles, guess_context
from celeryfix.sites.launch_decision import Runner
from celeryfix.sites.script_paths import MAX_CHAIN, PathResolver, executed_paths

if TYPE_CHECKING:
    from celeryfix.engine import RepoContext

_PROCFILE = re.compile(r"Procfile([.-][\w.-]+)?")
_PROCESS = re.compile(r"([A-Za-z0-9_-]+)[ \t]*:[ \t]*(.*)")


@dataclass
class ScriptLinks:
    """Who starts each script, and the images that copy scripts in."""

    runners: dict[str, list[Runner]] = field(default_factory=dict)
    images: list[tuple[ImageFiles, LaunchContext]] = field(default_factory=list)

    def holders(self, relpath: str) -> list[Runner]:
        """The images that copy the script in (for a script nothing is known to start)."""
        return [
            Runner(f"the image of {image.dockerfile} (it copies the script)", context)
            for image, context in self.images
            if image.holds(relpath)
        ]


class _Linker:
    def __init__(self, context: RepoContext) -> None:
        self.context = context
        files = context.files
        self.known = frozenset(files.compose + files.python + files.dockerfiles + files.other)
        self.links = ScriptLinks()
        self.queue: deque[tuple[str, Runner, PathResolver, int]] = deque()
        self._images: dict[tuple[str, str], ImageFiles] = {}
        self._shell_files: dict[str, bool] = {}

    def image(self, dockerfile: str, build_context: str | None) -> ImageFiles | None:
        text = self.context.read_text(dockerfile)
        if text is None or looks_like_template(text):
            return None
        build = build_context or guess_context(dockerfile, text, self.known)
        if (dockerfile, build) not in self._images:
            image = ImageFiles(dockerfile, text, build, self.known)
            self._images[dockerfile, build] = image
            fileless = self.context.fileless_scheduler
            self.links.images.append((image, image_context(dockerfile, text, fileless)))
        return self._images[dockerfile, build]

    def is_shell_file(self, relpath: str) -> bool:
        if relpath not in self._shell_files:
            text = self.context.read_text(relpath)
            self._shell_files[relpath] = (
                text is not None
                and not relpath.endswith(".py")
                and (not text.startswith("#!") or has_shell_shebang(text[:128].encode()))
            )
        return self._shell_files[relpath]

    def link(
        self,
        argv: list[str],
        runner: Runner,
        resolver: PathResolver,
        depth: int,
        where: str,
        *,
        switched_only: bool = False,
    ) -> None:
        """Queue the scripts that `argv`, written in `where`, starts (only those started as
        another user with `switched_only`: who runs `where` itself is unknown)."""
        for word, operand, switched in executed_paths(argv):
            path = resolver.resolve(word, operand)
            if path is None or path == where or not self.is_shell_file(path):
                continue
            started = runner
            if switched:
                user = f"`{switched}` in {where}"
                site = f"{runner.site} through `{switched}`" if runner.site else where
                started = Runner(site, replace(runner.context, non_root_user=user))
            elif switched_only:
                continue
            self.queue.append((path, started, resolver, depth))

    def follow(self) -> None:
        """Give each queued script its runner, and queue the scripts it starts in turn."""
        seen: set[tuple[str, Runner]] = set()
        while self.queue:
            script, runner, resolver, depth = self.queue.popleft()
            if (script, runner) in seen:
                continue
            seen.add((script, runner))
            self.links.runners.setdefault(script, []).append(runner)
            text = self.context.read_text(script)
            if text is None or depth >= MAX_CHAIN:
                continue
            inner = resolver.with_folder(posixpath.dirname(script) or ".")
            started_by = Runner(f"{script} (started by {runner.site})", runner.context)
            for command in parse_script(text.replace("\r\n", "\n")):
                self.link(command.argv, started_by, inner, depth + 1, script)


def script_links(context: RepoContext) -> ScriptLinks:
    """Who starts each shell script of the repository (scripts nothing starts are absent)."""
    linker = _Linker(context)
    built: dict[str, list[str | None]] = {}
    for service in context.compose.services:
        folder = posixpath.dirname(service.file) or "."
        image = None
        if service.dockerfile is not None:
            built.setdefault(service.dockerfile, []).append(service.build_context)
            image = linker.image(service.dockerfile, service.build_context)
        workdir = service.working_dir or (image.workdir if image else None)
        folders = (service.build_context or folder, folder)
        resolver = PathResolver(image, workdir, folders, linker.known)
        runner = Runner(f"service `{service.name}` of {service.file}", service.context)
        linker.link(list(service.argv), runner, resolver, 0, service.file)
    for dockerfile in context.files.dockerfiles:
        text = context.read_text(dockerfile)
        if text is None or looks_like_template(text):
            continue
        launch = image_launch(text)
        argv = [token.value for token in launch_argv(text, launch).tokens]
        fileless = context.fileless_scheduler
        runner = Runner(f"the image of {dockerfile}", image_context(dockerfile, text, fileless))
        for build_context in dict.fromkeys(built.get(dockerfile) or [None]):
            image = linker.image(dockerfile, build_context)
            if image is None:
                continue
            folders = (image.context, posixpath.dirname(dockerfile) or ".")
            resolver = PathResolver(image, image.workdir, folders, linker.known)
            linker.link(argv, runner, resolver, 0, dockerfile)
    _link_procfiles(context, linker)
    linker.follow()
    _link_from_unstarted_scripts(context, linker)
    linker.follow()
    return linker.links


def _link_from_unstarted_scripts(context: RepoContext, linker: _Linker) -> None:
    """A script nothing starts may still say that what it starts runs as another user
    (`exec gosu app /start-worker.sh`): that much is known whoever runs it."""
    for script in context.files.scripts:
        text = context.read_text(script)
        if script in linker.links.runners or text is None:
            continue
        folder = posixpath.dirname(script) or "."
        resolver = PathResolver(None, None, (folder, "."), linker.known)
        unknown = Runner("", LaunchContext(fileless_scheduler=context.fileless_scheduler))
        for command in parse_script(text.replace("\r\n", "\n")):
            linker.link(command.argv, unknown, resolver, 1, script, switched_only=True)


def _link_procfiles(context: RepoContext, linker: _Linker) -> None:
    """Procfile platforms (Heroku, Dokku) run their processes as a non-root user."""
    for relpath in context.files.other:
        if not _PROCFILE.fullmatch(posixpath.basename(relpath)):
            continue
        text = context.read_text(relpath) or ""
        folder = posixpath.dirname(relpath) or "."
        resolver = PathResolver(None, None, (folder,), linker.known)
        for line in text.splitlines():
            match = _PROCESS.fullmatch(line.strip())
            if match is None:
                continue
            user = f"a process of {relpath}: Procfile platforms run processes as a non-root user"
            runner = Runner(f"process `{match.group(1)}` of {relpath}", LaunchContext(user))
            for command in parse_script(match.group(2)):
                linker.link(command.argv, runner, resolver, 0, relpath)
