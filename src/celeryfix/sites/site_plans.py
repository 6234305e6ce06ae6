"""What the site rules that edit files of their own (CF105, CF106, CF107) share beyond the
launch policy: how an unsafe rule runs when not selected (it reports what it would change), and
how a file's edits are settled (the same edit planned twice is made once, different ones at one
place are dropped) and checked by parsing the edited text again.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from enum import Enum
from typing import TYPE_CHECKING

from celeryfix.config import enabled_rules
from celeryfix.edits import EditConflict, apply_edits
from celeryfix.launch import Found, Wrapped, find_invocations
from celeryfix.models import Edit, Note, NoteKind
from celeryfix.shellwords import parse_script
from celeryfix.sites import SitePlan
from celeryfix.textmap import MappedText
from celeryfix.tokens import ArgvToken, word_tokens
from celeryfix.verify import VerificationError, verify_yaml

if TYPE_CHECKING:
    from celeryfix.config import Options

_FLAG = re.compile(r"--[a-z][a-z-]*=[^\s'\",\]]+")
Checker = Callable[[str, str, list[Edit]], None]  # (old text, new text, edits); raises on mismatch


class SiteMode(str, Enum):
    EDIT = "edit"  # the rule runs: its edits are made
    REPORT = "report"  # an unsafe rule that is not selected: what it would change is reported


def unsafe_site_mode(options: Options, rule: str) -> SiteMode | None:
    """EDIT when the unsafe rule is selected by id; REPORT when it is not, unless the user
    ignores it or selects only other rules (`--select CF201`); None: stay silent."""
    if options.is_enabled(rule):
        return SiteMode.EDIT
    if rule not in enabled_rules((rule,), options.ignore):
        return None
    wanted = [s.upper() for s in options.select]
    if wanted and not any(s == "ALL" or rule.startswith(s) for s in wanted):
        return None
    return SiteMode.REPORT


def flags_of(edit: Edit) -> str:
    """The options an edit adds, as the command line shows them."""
    return " ".join(_FLAG.findall(edit.text))


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def settle_edits(
    relpath: str, text: str, edits: Iterable[Edit], rule: str, check: Checker
) -> SitePlan:
    """A file's edits, each made once; different insertions at one place (a command written
    once and shared by runners that need different flags) are dropped with a note; then the
    edited text is parsed again by `check`: a mismatch drops every edit of the file, noted."""
    plan = SitePlan()
    by_place: dict[tuple[int, int], set[Edit]] = defaultdict(set)
    for edit in edits:
        by_place[(edit.start, edit.end)].add(edit)
    for (start, _), group in sorted(by_place.items()):
        if len(group) == 1:
            plan.edits.extend(group)
        else:
            plan.notes.append(
                Note(
                    relpath,
                    line_of(text, start),
                    rule,
                    NoteKind.SKIP,
                    "the command is written once and shared by runners that need different"
                    " changes: left alone",
                )
            )
    if not plan.edits:
        return plan
    try:
        check(text, apply_edits(text, plan.edits), plan.edits)
    except (VerificationError, EditConflict) as error:
        message = f"internal check failed, nothing of this file is changed: {error}"
        return SitePlan(notes=[*plan.notes, Note(relpath, 1, rule, NoteKind.SKIP, message)])
    return plan


def merge(plans: Iterable[SitePlan]) -> SitePlan:
    merged = SitePlan()
    for plan in plans:
        merged.edits += plan.edits
        merged.notes += plan.notes
        merged.app_names += plan.app_names
    return merged


def skip(relpath: str, rule: str, message: str, line: int = 1) -> SitePlan:
    return SitePlan(notes=[Note(relpath, line, rule, NoteKind.SKIP, message)])


def invocations_of(commands: Iterable[list[ArgvToken]]) -> list[tuple[Found | Wrapped, int]]:
    """Every Celery invocation of the commands, with the offset of the command it is in."""
    return [
        (found, tokens[0].offset)
        for tokens in commands
        if tokens
        for found in find_invocations(tokens)
    ]


def shell_commands(layer: MappedText | None, text: str) -> list[list[ArgvToken]]:
    """The simple commands of a shell text (`layer.text`, or `text` where no map exists), as
    tokens; raises ShellSyntaxError where the words cannot be read reliably."""
    source = layer.text if layer is not None else text
    return [word_tokens(list(c.words), layer) for c in parse_script(source, strict=True)]


def yaml_checker(relpath: str) -> Checker:
    """The edited YAML composes to the old documents plus the added options only."""

    def check(old: str, new: str, edits: list[Edit]) -> None:
        verify_yaml(relpath, old, new, edits)

    return check
