"""Services of a compose file, and what they say about the processes they start."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from celeryfix.compose.document import get, items, scalar
from celeryfix.dockerfile import is_root_user


@dataclass(frozen=True)
class ComposeService:
    """One service of one document of a compose file."""

    file: str  # repository-relative path of the compose file
    name: str
    node: MappingNode

    @property
    def line(self) -> int:
        return int(self.node.start_mark.line) + 1

    def value(self, key: str) -> Node | None:
        return get(self.node, key)

    @property
    def user(self) -> str | None:
        """The `user:` value (aliases and merges resolved), None when unset."""
        return scalar(self.value("user"))

    @property
    def image(self) -> str | None:
        return scalar(self.value("image"))

    @property
    def folder(self) -> str:
        return posixpath.dirname(self.file)

    def build_dockerfile(self) -> str | None:
        """Repository-relative path of the Dockerfile that builds this service's image."""
        build = self.value("build")
        context = scalar(build)
        dockerfile = "Dockerfile"
        if isinstance(build, MappingNode):
            context = scalar(get(build, "context")) or "."
            dockerfile = scalar(get(build, "dockerfile")) or dockerfile
        if context is None or "://" in context or context.startswith("git@") or "$" in context:
            return None
        path = posixpath.normpath(posixpath.join(self.folder, context, dockerfile))
        return None if path.startswith("../") or path == ".." or posixpath.isabs(path) else path

    def build_context(self) -> str | None:
        """Repository-relative build context folder, if it is in the repository."""
        dockerfile = self.build_dockerfile()
        build = self.value("build")
        context = scalar(build) or (
            scalar(get(build, "context")) if isinstance(build, MappingNode) else None
        )
        if dockerfile is None or context is None:
            return None
        path = posixpath.normpath(posixpath.join(self.folder, context))
        return "" if path == "." else path

    def environment(self) -> dict[str, str]:
        """`environment:` in mapping or list form (values as written, unresolved)."""
        env = self.value("environment")
        result: dict[str, str] = {}
        if isinstance(env, MappingNode):
            for key, value in items(env):
                result[key] = scalar(value) or ""
        elif isinstance(env, SequenceNode):
            for item in env.value:
                text = scalar(item)
                if text and "=" in text:
                    name, _, setting = text.partition("=")
                    result[name.strip()] = setting
        return result


def services_of(file: str, document: Node) -> list[ComposeService]:
    """The services of one compose document (an empty list for other YAML)."""
    services = get(document, "services")
    if isinstance(services, MappingNode):
        return [
            ComposeService(file, name, node)
            for name, node in items(services)
            if isinstance(node, MappingNode)
        ]
    return []


def non_root_user(user: str | None) -> bool:
    """A `user:` that is set and is not root (a variable counts as non-root: unknown)."""
    return user is not None and user.strip() != "" and not is_root_user(user)


def is_scalar_or_list(node: Node | None) -> bool:
    return isinstance(node, (ScalarNode, SequenceNode))
