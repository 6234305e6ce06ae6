"""Compose files as ruamel.yaml node graphs: every node knows where it is written.

Only the composer runs (no constructor): nothing is built from the YAML, so unknown tags such as
compose's `!reset` and `!override` are kept, and an alias is the very node its anchor marks —
an anchored command is edited once, where it is written. Lookups honour merge keys (`<<: *a`,
`<<: [*a, *b]`) and never expand aliases, so an alias bomb costs nothing.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import lru_cache

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MERGE_TAG = "tag:yaml.org,2002:merge"
RESET_TAG = "!reset"
MAX_COMPOSE_BYTES = 4 * 1024 * 1024  # far above any real compose file; bounds parse time
# Jinja, as cookiecutter and tutor templates use it; Go templates ({{ .Names }}) do not match.
_TEMPLATE = re.compile(r"\{%|\{\{-?\s*[A-Za-z_]")


class ComposeSyntaxError(Exception):
    """The file is not YAML: (line, message)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def looks_like_template(text: str) -> bool:
    """Jinja markup: the file is a template, not YAML (skipped with a reason)."""
    return bool(_TEMPLATE.search(text))


def compose_documents(text: str) -> list[Node]:
    """The root node of every document of `text` (empty documents left out).

    Composed once per text: the planner, its re-read of the edited text and the verify step
    share the node graphs (which nobody mutates).
    """
    return list(_compose_cached(text))


@lru_cache(maxsize=64)
def _compose_cached(text: str) -> tuple[Node, ...]:
    return tuple(_compose(text))


def _compose(text: str) -> list[Node]:
    if len(text) > MAX_COMPOSE_BYTES:
        raise ComposeSyntaxError(1, f"file too large for a compose file ({len(text)} characters)")
    try:
        # ruamel warns on stderr about anchors defined twice (valid YAML: the later one wins);
        # the user hears about a file from celeryfix, in one line, or not at all.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            documents = [
                node for node in YAML(typ="safe", pure=True).compose_all(text) if node is not None
            ]
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        # One line: the problem, else the context (str(error) adds the marked source lines).
        said = (error.problem or error.context or str(error)).strip().splitlines()
        raise ComposeSyntaxError(line, said[0] if said else "not YAML") from None
    except YAMLError as error:
        raise ComposeSyntaxError(1, str(error).strip().splitlines()[0]) from None
    except RecursionError:
        raise ComposeSyntaxError(1, "nesting too deep") from None
    for document in documents:
        _check_unique_keys(document)
    return documents


def _check_unique_keys(root: Node) -> None:
    """A key written twice in one mapping is an error, as compose says: which one would run?

    Iterative, and each node once (an alias is the very node of its anchor), so deep or
    bomb-like documents cost nothing more here.
    """
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            lines: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                if isinstance(key, ScalarNode):
                    name, line = (str(key.tag), str(key.value)), key.start_mark.line + 1
                    if name in lines:
                        raise ComposeSyntaxError(
                            line, f"mapping key {name[1]!r} already defined at line {lines[name]}"
                        )
                    lines[name] = line
                stack += [key, value]
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def is_reset(node: Node | None) -> bool:
    return node is not None and node.tag == RESET_TAG


def scalar(node: Node | None) -> str | None:
    """The value of a scalar node (None for anything else or a reset)."""
    if isinstance(node, ScalarNode) and not is_reset(node):
        return str(node.value)
    return None


def _merged_sources(mapping: MappingNode) -> list[MappingNode]:
    sources: list[MappingNode] = []
    for key, value in mapping.value:
        if key.tag == MERGE_TAG or (isinstance(key, ScalarNode) and key.value == "<<"):
            items = value.value if isinstance(value, SequenceNode) else [value]
            sources.extend(item for item in items if isinstance(item, MappingNode))
    return sources


@dataclass(frozen=True)
class Found:
    """A value and the mapping it is written in (the service itself or a merged anchor)."""

    value: Node
    owner: MappingNode
    merged: bool  # inherited through `<<`


def lookup(mapping: Node | None, key: str, _depth: int = 0) -> Found | None:
    """mapping[key] with merge keys: own keys first, then each merged mapping in order."""
    if not isinstance(mapping, MappingNode) or _depth > 32:
        return None
    for item_key, value in mapping.value:
        if isinstance(item_key, ScalarNode) and item_key.value == key and item_key.tag != MERGE_TAG:
            return Found(value, mapping, _depth > 0)
    for source in _merged_sources(mapping):
        found = lookup(source, key, _depth + 1)
        if found is not None:
            return Found(found.value, found.owner, True)
    return None


def get(mapping: Node | None, key: str) -> Node | None:
    """mapping[key] with merge keys, None when absent or `!reset`."""
    found = lookup(mapping, key)
    if found is None or is_reset(found.value):
        return None
    return found.value


def items(mapping: Node | None) -> list[tuple[str, Node]]:
    """The (key, value) pairs of a mapping written in it (not merged), scalar keys only."""
    if not isinstance(mapping, MappingNode):
        return []
    return [
        (str(key.value), value)
        for key, value in mapping.value
        if isinstance(key, ScalarNode) and key.tag != MERGE_TAG and key.value != "<<"
    ]
