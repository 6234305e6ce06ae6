"""What a rule is: an id that is part of the interface, its docs, and where it looks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Safety(str, Enum):
    SAFE = "safe"  # runs by default
    UNSAFE = "unsafe"  # runs only when selected by id


class FileKind(str, Enum):
    COMPOSE = "compose"
    PYTHON = "python"
    DOCKERFILE = "dockerfile"
    SCRIPT = "script"
    PROCFILE = "procfile"  # Procfiles and Render's render.yaml
    SUPERVISORD = "supervisord"
    KUBERNETES = "kubernetes"


@dataclass(frozen=True)
class Example:
    """A before/after pair shown in the docs and checked by the rule's tests."""

    path: str
    before: str
    after: str


@dataclass(frozen=True)
class Rule:
    id: str  # CF101: stable, part of the interface
    name: str  # worker-runs-as-root
    summary: str  # one line
    safety: Safety
    reads: FileKind
    docs: str  # why it matters, what it changes, what it leaves alone (markdown)
    examples: tuple[Example, ...] = ()
