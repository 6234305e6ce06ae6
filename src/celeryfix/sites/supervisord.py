"""CF106: Celery workers and beats that supervisord programs start as root.

supervisord reads its configuration with Python's configparser (RawConfigParser, with `;` and
`#` as inline comment prefixes and strict off), expands `%(ENV_X)s`-style references and `%%`
in `command=` with Python's `%` operator, and splits the result with `shlex.split` into the
argv it executes: no shell. The reader below follows configparser line by line, so every
character of a value (continuation lines joined by `\\n`, inline comments cut) maps back to its
offset in the file. A program's `user=` (or the `[supervisord]` section's, which the daemon
switches to before starting anything) already drops root.
"""

from __future__ import annotations

import configparser
import io
import re
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from celeryfix.compose.document import looks_like_template
from celeryfix.compose.services import non_root_user
from celeryfix.flag_edits import flag_edit
from celeryfix.models import Edit
from celeryfix.privilege_drop import FlagPlan, LaunchContext
from celeryfix.shellwords import ShellSyntaxError, split_shlex
from celeryfix.sites import SitePlan
from celeryfix.sites.launch_decision import Runner, plan_found
from celeryfix.sites.site_plans import invocations_of, merge, settle_edits, skip
from celeryfix.textmap import MappedText
from celeryfix.tokens import ArgvToken, word_tokens
from celeryfix.verify import VerificationError, added_options

if TYPE_CHECKING:
    from celeryfix.config import Options
    from celeryfix.engine import RepoContext

RULE = "CF106"
_SUFFIXES = (".conf", ".ini", ".cfg")
_PROGRAM_HEADER = re.compile(r"^[ \t]*\[program:", re.MULTILINE)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")  # universal newlines, as supervisord opens it
_OPTION = re.compile(r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$")
_SECTION = re.compile(r"\[(?P<header>.+)\]")
_COMMENT_PREFIXES = ("#", ";")
_DEFAULT = "DEFAULT"
# A `%` format reference, as Python's `%` operator reads it: `%(name)s`, `%(process_num)02d`.
_REFERENCE = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
MAX_BYTES = 1024 * 1024  # far above any real supervisord configuration


class IniError(Exception):
    """configparser (so supervisord) would refuse the file: (line, message)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass
class IniSection:
    name: str
    line: int
    # option -> its value as configparser returns it, mapped to the file; the line it starts on
    options: dict[str, tuple[MappedText, int]] = field(default_factory=dict)


def _join(pieces: list[MappedText]) -> MappedText:
    """configparser's `'\\n'.join(lines).rstrip()`, each joining line break mapped where the
    line before it ends."""
    text: list[str] = []
    spans: list[tuple[int, int]] = []
    for index, piece in enumerate(pieces):
        if index:
            end = spans[-1][1] if spans else piece.anchor
            text.append("\n")
            spans.append((end, end))
        text.append(piece.text)
        spans.extend(piece.spans)
    joined = "".join(text)
    kept = len(joined.rstrip())
    return MappedText(joined[:kept], tuple(spans[:kept]), pieces[0].anchor if pieces else 0)


def _comment_start(line: str) -> int | None:
    """Where configparser's inline comment stripping cuts the line (None: nowhere)."""
    found: int | None = None
    positions = dict.fromkeys(_COMMENT_PREFIXES, -1)
    while found is None and positions:
        following = {}
        for prefix, index in positions.items():
            index = line.find(prefix, index + 1)
            if index == -1:
                continue
            following[prefix] = index
            if index == 0 or line[index - 1].isspace():
                found = index if found is None else min(found, index)
        positions = following
    if line.strip().startswith(_COMMENT_PREFIXES):
        found = 0
    return found


def read_ini(text: str) -> list[IniSection]:
    """The sections of an INI text as supervisord's configparser reads them (duplicates merged,
    the last value of an option kept); raises IniError where configparser raises."""
    sections: dict[str, IniSection] = {}
    current: IniSection | None = None
    pieces: dict[str, list[MappedText]] = {}  # current section's options, line by line
    option: str | None = None
    indent = 0
    offset = 0

    def flush() -> None:
        if current is not None:
            for key, value_pieces in pieces.items():
                line = current.options[key][1]
                current.options[key] = (_join(value_pieces), line)

    for number, match in enumerate(_LINE.finditer(text), start=1):
        raw = match.group()
        if not raw:
            break
        start, offset = offset, offset + len(raw)
        line = raw.rstrip("\r\n")
        cut = _comment_start(line)
        kept = line[:cut] if cut is not None else line
        value = kept.strip()
        if not value:
            if cut is None and current is not None and option and option in pieces:
                pieces[option].append(MappedText.identity("", start))
            continue
        first = len(line) - len(line.lstrip())
        where = start + len(kept) - len(kept.lstrip())
        if current is not None and option and first > indent:
            pieces.setdefault(option, []).append(MappedText.identity(value, where))
            continue
        indent = first
        header = _SECTION.match(value)
        if header:
            flush()
            name = header.group("header")
            current = sections.setdefault(name, IniSection(name, number))
            pieces = {key: [value] for key, (value, _) in current.options.items()}
            option = None
        elif current is None:
            raise IniError(number, "an option before any [section]")
        else:
            found = _OPTION.match(value)
            if not found or not found.group("option"):
                raise IniError(number, "neither a section, an option nor a comment")
            option = found.group("option").rstrip().lower()  # configparser's optionxform
            value_start = where + found.start("value")
            pieces[option] = [MappedText.identity(found.group("value").strip(), value_start)]
            current.options[option] = (pieces[option][0], number)
    flush()
    return list(sections.values())


def _expanded(value: MappedText) -> MappedText:
    """The value after supervisord's `%` expansion as far as it is known: `%%` is `%`, and a
    reference (`%(ENV_LEVEL)s`, `%(process_num)02d`), whose value is unknown here, reads as the
    variable `${ENV_LEVEL}` (one word, as the value most often is), every character of it mapped
    to the whole reference."""
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    index = 0
    while index < len(value.text):
        reference = _REFERENCE.match(value.text, index)
        if value.text.startswith("%%", index):
            chars.append("%")
            spans.append((value.spans[index][0], value.spans[index + 1][1]))
            index += 2
        elif reference is not None:
            whole = (value.spans[index][0], value.spans[reference.end() - 1][1])
            placeholder = "${" + reference.group(1) + "}"
            chars.extend(placeholder)
            spans.extend([whole] * len(placeholder))
            index = reference.end()
        else:
            chars.append(value.text[index])
            spans.append(value.spans[index])
            index += 1
    return MappedText("".join(chars), tuple(spans), value.anchor)


def _option(section: IniSection, defaults: IniSection | None, key: str) -> str | None:
    for holder in (section, defaults):
        if holder is not None and key in holder.options:
            return _expanded(holder.options[key][0]).text
    return None


def plan_site(context: RepoContext, options: Options) -> SitePlan:
    """CF106 edits and notes for every supervisord configuration with a Celery program."""
    if not options.is_enabled(RULE):
        return SitePlan()
    plans = []
    for relpath in context.files.other:
        # supervisord reads any file it is told to; these are where they are usually kept.
        if not (relpath.lower().endswith(_SUFFIXES) or "supervisor" in relpath.lower()):
            continue
        try:
            if (context.root / relpath).stat().st_size > MAX_BYTES:
                continue
        except OSError:
            continue
        text = context.read_text(relpath)
        if text is None or "celery" not in text.lower() or not _PROGRAM_HEADER.search(text):
            continue
        plans.append(_plan_file(context, relpath, text, options))
    return merge(plans)


def _plan_file(context: RepoContext, relpath: str, text: str, options: Options) -> SitePlan:
    if looks_like_template(text):
        return skip(relpath, RULE, "a template (Jinja markup), not a supervisord file: left alone")
    try:
        sections = read_ini(text)
    except IniError as error:
        return skip(
            relpath, RULE, f"supervisord would not read it ({error}): left alone", error.line
        )
    by_name = {section.name: section for section in sections}
    defaults = by_name.get(_DEFAULT)
    daemon = by_name.get("supervisord")
    daemon_user = _option(daemon, defaults, "user") if daemon is not None else None
    newline = context.read(relpath).newline

    def edit_for(token: ArgvToken, flags: FlagPlan) -> Edit | None:
        return flag_edit(relpath, text, newline, token, flags)

    plans = []
    for section in sections:
        if not section.name.startswith("program:"):
            continue
        holder = section if "command" in section.options else defaults
        if holder is None or "command" not in holder.options:
            continue
        value, line = holder.options["command"]
        command = _expanded(value)
        try:
            tokens = word_tokens(split_shlex(command.text), command)
        except ShellSyntaxError as error:
            if "celery" in command.text.lower():
                message = f"`command=` of [{section.name}] cannot be split as supervisord splits it ({error}): left alone"
                plans.append(skip(relpath, RULE, message, line))
            continue
        user = _option(section, defaults, "user")
        runs_as = None
        if user is not None:
            runs_as = f"user={user} in [{section.name}]" if non_root_user(user) else None
        elif non_root_user(daemon_user):
            runs_as = f"user={daemon_user} in [supervisord]"
        runner = Runner(
            f"[{section.name}]", LaunchContext(runs_as, None, context.fileless_scheduler)
        )
        plans.append(
            plan_found(relpath, text, invocations_of([tokens]), [runner], options, RULE, edit_for)
        )
    plan = merge(plans)
    settled = settle_edits(relpath, text, plan.edits, RULE, _check)
    return SitePlan(settled.edits, plan.notes + settled.notes)


def _parsed(path: str, text: str) -> dict[str, dict[str, str]]:
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    try:
        parser.read_file(io.StringIO(text, newline=None), path)  # as open() reads the file
    except configparser.Error as error:
        raise VerificationError(f"{path}: configparser refuses the fixed file ({error})") from None
    sections = {name: dict(parser.items(name)) for name in parser.sections()}
    sections[_DEFAULT] = dict(parser.defaults())
    return sections


def _check(old: str, new: str, edits: list[Edit]) -> None:
    """Read both texts again with configparser itself, as supervisord does: every value is
    unchanged except `command=` values, which gain only the inserted options and still split
    (after `%%` expansion) with shlex."""
    options = added_options(edits)
    before, after = _parsed("<old>", old), _parsed("<new>", new)
    inserted = sum(len(re.findall(r"--[a-z][a-z-]*=", edit.text)) for edit in edits)
    added = 0
    if before.keys() != after.keys():
        raise VerificationError("the fixed supervisord file has other sections")
    for name, values in after.items():
        if values.keys() != before[name].keys():
            raise VerificationError(f"[{name}] of the fixed file has other options")
        for key, value in values.items():
            if value == before[name][key]:
                continue
            stripped = value
            for option in sorted(options, key=len, reverse=True):
                stripped = stripped.replace(" " + option, "")
            if key != "command" or stripped != before[name][key]:
                raise VerificationError(f"[{name}] {key}= changed in more than the options")
            try:
                shlex.split(value.replace("%%", "%"))
            except ValueError as error:
                raise VerificationError(f"[{name}] command= no longer splits: {error}") from None
            added += sum(value.count(o) - before[name][key].count(o) for o in options)
    if added != inserted:
        raise VerificationError("the inserted options are not all inside command= values")
