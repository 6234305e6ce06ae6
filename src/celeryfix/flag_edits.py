"""Turn a flag plan into an edit where the invocation's last token is written.

Text sites get ` --uid=nobody --gid=nogroup` spliced in after the token; YAML list sites get new
items in the list's own layout: flow lists reuse the separator and quote style of their
neighbours, block lists add lines at the siblings' indentation with the file's newline.
"""

from __future__ import annotations

import re

from ruamel.yaml.nodes import ScalarNode

from celeryfix.models import Edit
from celeryfix.privilege_drop import FlagPlan
from celeryfix.tokens import ArgvToken


def _quote(flag: str, like: ScalarNode) -> str:
    if like.style == '"':
        return f'"{flag}"'
    if like.style == "'":
        return f"'{flag}'"
    return flag


def list_insertion(
    source: str, newline: str, token: ArgvToken, flags: list[str]
) -> tuple[int, str] | None:
    """Where and what to insert to add `flags` as items after `token` in its YAML list."""
    item, sequence = token.item, token.sequence
    assert item is not None and sequence is not None
    values = [_quote(flag, item) for flag in flags]
    if sequence.flow_style:
        index = sequence.value.index(item)
        separator = ", "
        if index > 0:
            between = source[sequence.value[index - 1].end_mark.index : item.start_mark.index]
            if re.fullmatch(r"[ \t]*,[ \t\r\n]*", between):
                separator = between
        return item.end_mark.index, "".join(separator + value for value in values)
    line_start = source.rfind("\n", 0, item.start_mark.index) + 1
    prefix = source[line_start : item.start_mark.index]
    if not re.fullmatch(r"[ \t]*-[ \t]+", prefix):
        return None  # `- - x`, or an item with an anchor/tag before it: no safe layout
    end = item.end_mark.index
    if end > 0 and source[end - 1] == "\n":  # a block scalar item ends after its line break
        end -= 1
    line_end = source.find("\n", end)
    if line_end == -1:
        line_end = len(source)
    elif line_end > 0 and source[line_end - 1] == "\r":
        line_end -= 1
    return line_end, "".join(newline + prefix + value for value in values)


def flag_edit(
    relpath: str, source: str, newline: str, token: ArgvToken, plan: FlagPlan
) -> Edit | None:
    """The edit that appends the plan's flags after `token`, or None where no safe one exists."""
    flags = [flag for flag, _ in plan.flags]
    rule = "+".join(plan.rules)
    if token.item is not None and token.sequence is not None:
        placed = list_insertion(source, newline, token, flags)
        if placed is None:
            return None
        return Edit(relpath, placed[0], placed[0], placed[1], rule)
    if token.after is None:
        return None
    return Edit(relpath, token.after, token.after, " " + " ".join(flags), rule)
