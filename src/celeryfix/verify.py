"""Check a planned file before it is written, as black checks the AST of what it formats.

The new text is parsed again and must differ from the old one only as intended:
- YAML: the composed documents are equal, node for node (values, tags, styles, anchors), except
  edited command/entrypoint nodes, which gain only the added options;
- Python: the module's AST equals the old one plus the inserted top-level assignments;
- shell scripts and Dockerfiles: every simple command (every instruction, exec-form arrays
  read as JSON) equals the old one plus the added options.
A mismatch is an internal error: nothing of the repository is written.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Iterable

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from celeryfix.compose.document import ComposeSyntaxError, compose_documents
from celeryfix.discover import is_dockerfile_name
from celeryfix.dockerfile import instructions
from celeryfix.models import Edit
from celeryfix.shellwords import ShellSyntaxError, parse_script

_OPTION = re.compile(r"--[a-z][a-z-]*=[^\s'\",\]]+")


class VerificationError(Exception):
    """The planned text is not the old text plus the intended change."""


def added_options(edits: Iterable[Edit]) -> set[str]:
    """The options that compose edits insert (`--uid=nobody`, ...)."""
    return {option for edit in edits for option in _OPTION.findall(edit.text)}


def _text(node: ScalarNode) -> str:
    return str(node.value).replace("\a", "")


def _strip(value: str, options: set[str]) -> str:
    for option in sorted(options, key=len, reverse=True):
        value = value.replace(" " + option, "")
    return value


def _without(sequence: SequenceNode, options: set[str]) -> list[Node]:
    return [i for i in sequence.value if not (isinstance(i, ScalarNode) and _text(i) in options)]


def _same_node(old: Node, new: Node, options: set[str], seen: set[tuple[int, int]]) -> bool:
    if (id(old), id(new)) in seen:
        return True
    seen.add((id(old), id(new)))
    if type(old) is not type(new) or old.tag != new.tag or old.anchor != new.anchor:
        return False
    if isinstance(old, ScalarNode):
        assert isinstance(new, ScalarNode)
        if old.style != new.style:
            return False
        return _text(old) == _text(new) or (
            _strip(_text(new), options) == _strip(_text(old), options) != _text(new)
        )
    if isinstance(old, SequenceNode):
        assert isinstance(new, SequenceNode)
        # Options already in the old list (a fixed service beside one being fixed) are taken
        # out of both sides, like the added ones.
        old_items, new_items = _without(old, options), _without(new, options)
        return len(old_items) == len(new_items) and all(
            _same_node(a, b, options, seen) for a, b in zip(old_items, new_items, strict=True)
        )
    if isinstance(old, MappingNode):
        return len(old.value) == len(new.value) and all(
            _same_node(k1, k2, options, seen) and _same_node(v1, v2, options, seen)
            for (k1, v1), (k2, v2) in zip(old.value, new.value, strict=True)
        )
    return False


def verify_yaml(path: str, old: str, new: str, edits: Iterable[Edit]) -> None:
    """The new YAML composes to the old documents plus the added options only."""
    options = added_options(edits)
    try:
        old_docs, new_docs = compose_documents(old), compose_documents(new)
    except ComposeSyntaxError as error:
        raise VerificationError(
            f"{path}: the fixed file would not be valid YAML ({error})"
        ) from None
    seen: set[tuple[int, int]] = set()
    if len(old_docs) != len(new_docs) or not all(
        _same_node(a, b, options, seen) for a, b in zip(old_docs, new_docs, strict=True)
    ):
        raise VerificationError(
            f"{path}: the fixed YAML differs from the original in more than the added options"
        )


_ASSIGNED = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*(?::[^=\n]*)?=(?!=)")


_DICT_KEY = re.compile(r"""["']([A-Za-z_][A-Za-z0-9_]*)["']\s*:""")


def inserted_names(edits: Iterable[Edit]) -> set[str]:
    """The names that settings edits assign (statements, keyword arguments, dict keys)."""
    return {
        name
        for edit in edits
        for pattern in (_ASSIGNED, _DICT_KEY)
        for name in pattern.findall(edit.text)
    }


def assigns_only(node: ast.AST, names: set[str]) -> bool:
    """An assignment (plain or annotated) whose targets are all names of `names`."""
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign):
        targets = [node.target]
    return bool(targets) and all(isinstance(t, ast.Name) and t.id in names for t in targets)


class _StripArguments(ast.NodeTransformer):
    """Remove keyword arguments and dict entries of the given names, wherever they stand."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, ast.Dict):  # conf.update({"name": value, ...})
            pairs = [
                (key, value)
                for key, value in zip(node.keys, node.values, strict=True)
                if not (isinstance(key, ast.Constant) and key.value in self.names)
            ]
            node.keys = [key for key, _ in pairs]
            node.values = [value for _, value in pairs]
        for field, value in ast.iter_fields(node):
            if isinstance(value, list):
                kept = [
                    item
                    for item in value
                    if not (isinstance(item, ast.keyword) and item.arg in self.names)
                ]
                setattr(node, field, [self.visit(i) if isinstance(i, ast.AST) else i for i in kept])
            elif isinstance(value, ast.AST):
                self.visit(value)
        return node


def _without_arguments(statement: ast.stmt, names: set[str]) -> str:
    """The statement with keyword arguments and dict entries of `names` taken out."""
    return ast.dump(_StripArguments(names).visit(copy.deepcopy(statement)))


def verify_python(path: str, old: str, new: str, edits: Iterable[Edit]) -> None:
    """The new module is the old one, statement for statement, plus top-level assignments to
    the inserted names, and `conf.update(...)` calls that gained arguments of those names."""
    names = inserted_names(edits)
    try:
        new_body = ast.parse(new).body
    except SyntaxError as error:
        raise VerificationError(
            f"{path}: the fixed file would not be valid Python ({error.msg})"
        ) from None
    try:
        old_body = ast.parse(old).body
    except SyntaxError:
        return  # the planner read it with its own parser; nothing to compare against
    index = 0
    for statement in new_body:
        if index < len(old_body) and ast.dump(old_body[index]) == ast.dump(statement):
            index += 1
        elif assigns_only(statement, names):
            continue  # an inserted setting
        elif index < len(old_body) and _without_arguments(
            old_body[index], names
        ) == _without_arguments(statement, names):
            index += 1  # conf.update(...) gained the settings as arguments
        else:
            break
    else:
        if index == len(old_body):
            return
    raise VerificationError(
        f"{path}: the fixed module differs from the original in more than the inserted settings"
    )


def _shell_commands(path: str, text: str) -> list[tuple[bool, list[str]]]:
    """A script's simple commands (CRLF read as LF), or a Dockerfile's instructions, each with
    whether options may be added to it: only CMD/ENTRYPOINT of a Dockerfile (an exec-form array
    as its JSON items, shell form as its commands) and every command of a script."""
    if not is_dockerfile_name(path.rsplit("/", 1)[-1]):
        return [(True, c.argv) for c in parse_script(text.replace("\r\n", "\n"), strict=True)]
    commands: list[tuple[bool, list[str]]] = []
    for instruction in instructions(text):
        launch = instruction.keyword in ("CMD", "ENTRYPOINT")
        try:
            items = json.loads(instruction.arguments)
        except ValueError:
            items = None
        if not launch:
            commands.append((False, [instruction.keyword, instruction.arguments]))
        elif isinstance(items, list) and all(isinstance(item, str) for item in items):
            commands.append((True, [instruction.keyword, "[", *items]))
        else:
            words = [w for c in parse_script(instruction.arguments) for w in [*c.argv, ";"]]
            commands.append((True, [instruction.keyword, *words]))
    return commands


def verify_shell(path: str, old: str, new: str, edits: Iterable[Edit]) -> None:
    """Every command of the new script or Dockerfile is the old one plus the added options."""
    edits = list(edits)
    options = added_options(edits)
    try:
        old_commands, new_commands = _shell_commands(path, old), _shell_commands(path, new)
    except ShellSyntaxError as error:
        raise VerificationError(f"{path}: the fixed file would not parse ({error})") from None
    stripped = [
        (editable, [_strip(w, options) for w in words if w not in options] if editable else words)
        for editable, words in new_commands
    ]
    inserted = sum(len(_OPTION.findall(edit.text)) for edit in edits)
    before = sum(w.count(o) for _, words in old_commands for w in words for o in options)
    after = sum(w.count(o) for _, words in new_commands for w in words for o in options)
    # Equal commands once the options are taken out, and each inserted option inside a command
    # (never in a comment, a heredoc, or a quote the shell does not read as the argv).
    if stripped != old_commands or after - before != inserted:
        raise VerificationError(
            f"{path}: the fixed commands differ from the original in more than the added options"
        )
