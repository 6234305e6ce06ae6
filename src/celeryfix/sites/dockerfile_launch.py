"""What a container of a Dockerfile's image runs by default: ENTRYPOINT + CMD, as argv tokens.

The instructions in force are those of the final stage and the stages it derives from; an
ENTRYPOINT resets a CMD inherited from an earlier stage, and a shell-form ENTRYPOINT ignores CMD.
Exec form (a JSON array of strings) gives one token per item; shell form is `/bin/sh -c TEXT`,
TEXT being the instruction as Docker passes it to the shell: continuation lines joined, comment
lines inside them dropped. Every character maps back to its offset in the Dockerfile.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from celeryfix.compose.services import non_root_user
from celeryfix.dockerfile import Instruction, base_image, final_chain, final_user
from celeryfix.privilege_drop import LaunchContext
from celeryfix.textmap import MappedText
from celeryfix.tokens import ArgvToken

_DIRECTIVE = re.compile(r"#[ \t]*escape[ \t]*=[ \t]*(\S)", re.IGNORECASE)
_SEPARATOR = re.compile(r"[ \t]*,[ \t]*")
_JSON_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r"}
_JSON_ESCAPES["t"] = "\t"


@dataclass(frozen=True)
class ImageLaunch:
    """The ENTRYPOINT and CMD a container starts with (None: not set, or not used)."""

    entrypoint: Instruction | None
    cmd: Instruction | None


@dataclass
class LaunchArgv:
    """Argv tokens of ENTRYPOINT + CMD; exec-form items keep their array's separator."""

    tokens: list[ArgvToken] = field(default_factory=list)
    json_items: dict[int, str] = field(default_factory=dict)  # item's `after` -> separator


def image_context(relpath: str, text: str, fileless_scheduler: bool) -> LaunchContext:
    """Who a container of the image runs as by default (its final USER), and its base image."""
    user = final_user(text)
    non_root = f"USER {user} in {relpath}" if non_root_user(user) else None
    return LaunchContext(non_root, base_image(text), fileless_scheduler)


def image_launch(text: str) -> ImageLaunch:
    """The ENTRYPOINT and CMD in force in the final stage."""
    entrypoint: tuple[Instruction, int] | None = None
    cmd: tuple[Instruction, int] | None = None
    for depth, stage in enumerate(reversed(final_chain(text))):
        for instruction in stage.instructions:
            if instruction.keyword == "CMD":
                cmd = (instruction, depth)
            elif instruction.keyword == "ENTRYPOINT":
                entrypoint = (instruction, depth)
                if cmd is not None and cmd[1] < depth:
                    cmd = None  # an ENTRYPOINT resets the CMD of the image it builds on
    entry = entrypoint[0] if entrypoint else None
    if entry is not None and exec_items(text, entry) is None:
        return ImageLaunch(entry, None)  # shell form: `/bin/sh -c TEXT` never reads CMD
    return ImageLaunch(entry, cmd[0] if cmd else None)


def escape_character(text: str) -> str:
    """The Dockerfile's line continuation character (`# escape=` directive, default `\\`)."""
    for line in text.split("\n", 5)[:5]:
        match = _DIRECTIVE.match(line.strip())
        if match:
            return match.group(1)
        if line.strip() and not line.lstrip().startswith("#"):
            break
    return "\\"


def instruction_layer(text: str, instruction: Instruction) -> MappedText:
    """The instruction's arguments as Docker reads them, mapped to offsets of the Dockerfile."""
    continuation = re.compile(re.escape(escape_character(text)) + r"[ \t]*\r?\n")
    start = instruction.start + len(instruction.keyword)
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    position = start
    while position < instruction.end:
        continued = continuation.match(text, position)
        if continued is None:
            chars.append(text[position])
            spans.append((position, position + 1))
            position += 1
            continue
        position = continued.end()
        # Comment lines and empty lines inside a continued instruction are dropped.
        while position < instruction.end:
            line_end = text.find("\n", position)
            line = text[position : line_end if line_end >= 0 else len(text)]
            if line.strip() and not line.lstrip().startswith("#"):
                break
            position = line_end + 1 if line_end >= 0 else len(text)
    return MappedText("".join(chars), tuple(spans), start)


@dataclass(frozen=True)
class _Item:
    start: int  # layer offsets of the opening and after the closing quote
    end: int
    chars: MappedText  # decoded value -> layer offsets


def exec_items(text: str, instruction: Instruction) -> list[ArgvToken] | None:
    """Exec form: one token per JSON item; None when the instruction is in shell form."""
    found = _exec_form(text, instruction)
    return None if found is None else found.tokens


def _exec_form(text: str, instruction: Instruction) -> LaunchArgv | None:
    layer = instruction_layer(text, instruction)
    try:
        values = json.loads(layer.text)
    except ValueError:
        return None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return None
    items = _scan_array(layer.text)
    argv = LaunchArgv()
    if items is None or [item.chars.text for item in items] != values:
        argv.tokens = [ArgvToken(value, None, None) for value in values]  # read, never edited
        return argv
    bounds = [
        (layer.parent_offset_before(i.start), layer.parent_offset_after(i.end)) for i in items
    ]
    separators = [text[bounds[i - 1][1] : bounds[i][0]] for i in range(1, len(bounds))]
    usual = next((s for s in separators if _SEPARATOR.fullmatch(s)), ", ")
    for index, item in enumerate(items):
        after = bounds[index][1]
        own = separators[index - 1] if index > 0 else usual
        argv.tokens.append(ArgvToken(item.chars.text, item.chars.compose(layer), after))
        argv.json_items[after] = own if _SEPARATOR.fullmatch(own) else usual
    return argv


def launch_argv(text: str, launch: ImageLaunch) -> LaunchArgv:
    """ENTRYPOINT + CMD as one argv (a shell-form instruction is `/bin/sh -c TEXT`)."""
    argv = LaunchArgv()
    for instruction in (launch.entrypoint, launch.cmd):
        if instruction is None:
            continue
        exec_form = _exec_form(text, instruction)
        if exec_form is not None:
            argv.tokens += exec_form.tokens
            argv.json_items.update(exec_form.json_items)
            continue
        layer = instruction_layer(text, instruction)
        argv.tokens += [
            ArgvToken("/bin/sh", None, None),
            ArgvToken("-c", None, None),
            ArgvToken(layer.text, layer, layer.parent_offset_after(len(layer.text))),
        ]
    return argv


def _scan_array(source: str) -> list[_Item] | None:
    """The string items of a JSON array with their offsets (None if not that simple shape)."""
    position = _skip_blank(source, 0)
    if not source.startswith("[", position):
        return None
    items: list[_Item] = []
    position = _skip_blank(source, position + 1)
    if source.startswith("]", position):
        return items
    while True:
        item = _scan_string(source, position)
        if item is None:
            return None
        items.append(item)
        position = _skip_blank(source, item.end)
        if source.startswith("]", position):
            return items
        if not source.startswith(",", position):
            return None
        position = _skip_blank(source, position + 1)


def _skip_blank(source: str, position: int) -> int:
    while position < len(source) and source[position] in " \t\r\n":
        position += 1
    return position


def _scan_string(source: str, start: int) -> _Item | None:
    if not source.startswith('"', start):
        return None
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    position = start + 1
    while position < len(source):
        char = source[position]
        if char == '"':
            return _Item(start, position + 1, MappedText("".join(chars), tuple(spans), start + 1))
        if char != "\\":
            chars.append(char)
            spans.append((position, position + 1))
            position += 1
            continue
        kind = source[position + 1 : position + 2]
        if kind == "u":
            code = int(source[position + 2 : position + 6], 16)
            end = position + 6
            low = source[end : end + 6]
            if 0xD800 <= code < 0xDC00 and low.startswith("\\u"):
                code = 0x10000 + ((code - 0xD800) << 10) + (int(low[2:], 16) - 0xDC00)
                end += 6
            chars.append(chr(code))
            spans.append((position, end))
            position = end
        elif kind in _JSON_ESCAPES:
            chars.append(_JSON_ESCAPES[kind])
            spans.append((position, position + 2))
            position += 2
        else:
            return None
    return None
