"""What a Dockerfile says about the image it builds: the base image and the final user.

Read statically: instructions with their line continuations, stages (`FROM x AS name`) and the
chain of stages the final one derives from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIRECTIVE = re.compile(r"^#\s*escape\s*=\s*(\S)", re.IGNORECASE)
_INSTRUCTION = re.compile(r"^\s*([A-Za-z]+)(\s+|$)")
# RHEL-family images have no `nogroup` group: --gid=nogroup kills the worker there.
_RHEL_FAMILY = re.compile(
    r"(^|[/:_.-])(ubi\d*|ubi-\w+|rhel\d*|centos|fedora|rockylinux|rocky|almalinux|alma|"
    r"amazonlinux|oraclelinux|redhat|openeuler)([/:_.-]|$)",
    re.IGNORECASE,
)
_ROOT_USERS = frozenset({"root", "0"})


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    arguments: str  # continuation lines joined, comments inside dropped
    start: int  # offset of the keyword
    end: int  # offset after the last character of the instruction (before its line break)
    line: int  # 1-based line of the keyword


@dataclass(frozen=True)
class Stage:
    base: str  # the FROM image (or an earlier stage's name)
    name: str | None
    instructions: tuple[Instruction, ...]


def instructions(text: str) -> list[Instruction]:
    """Every instruction of a Dockerfile, continuation lines joined."""
    escape = "\\"
    lines = text.split("\n")
    for line in lines[:5]:
        match = _DIRECTIVE.match(line)
        if match:
            escape = match.group(1)
    result: list[Instruction] = []
    offset = 0
    index = 0
    while index < len(lines):
        line = lines[index]
        start_offset, start_line = offset, index + 1
        offset += len(line) + 1
        index += 1
        match = _INSTRUCTION.match(line)
        if not match or line.lstrip().startswith("#"):
            continue
        parts = [line[match.end() :]]
        end = start_offset + len(line.rstrip("\r"))
        while parts[-1].rstrip("\r").rstrip().endswith(escape) and index < len(lines):
            parts[-1] = parts[-1].rstrip("\r").rstrip()[:-1]
            nxt = lines[index]
            offset += len(nxt) + 1
            index += 1
            if nxt.lstrip().startswith("#"):
                parts.append(escape)  # a comment inside a continued instruction is dropped
                continue
            parts.append(nxt)
            end = offset - 1 - (1 if nxt.endswith("\r") else 0)
        arguments = " ".join(p.rstrip("\r").strip() for p in parts if p.strip() != escape).strip()
        result.append(
            Instruction(
                match.group(1).upper(),
                arguments,
                start_offset + line.index(match.group(1)),
                end,
                start_line,
            )
        )
    return result


def stages(text: str) -> list[Stage]:
    """The build stages, in order."""
    found: list[Stage] = []
    current: list[Instruction] = []
    base, name = "", None
    for instruction in instructions(text):
        if instruction.keyword == "FROM":
            if base:
                found.append(Stage(base, name, tuple(current)))
            words = [w for w in instruction.arguments.split() if not w.startswith("--")]
            base = words[0] if words else ""
            name = words[2].lower() if len(words) >= 3 and words[1].upper() == "AS" else None
            current = []
        else:
            current.append(instruction)
    if base:
        found.append(Stage(base, name, tuple(current)))
    return found


def final_chain(text: str) -> list[Stage]:
    """The final stage and the stages it derives from, final first."""
    all_stages = stages(text)
    by_name = {stage.name: stage for stage in all_stages if stage.name}
    chain: list[Stage] = []
    stage = all_stages[-1] if all_stages else None
    while stage is not None and stage not in chain:
        chain.append(stage)
        stage = by_name.get(stage.base.lower())
    return chain


def base_image(text: str) -> str | None:
    """The external image the final stage is built from."""
    chain = final_chain(text)
    return chain[-1].base if chain else None


def final_user(text: str) -> str | None:
    """The last USER of the final stage (or of the stages it derives from), if any."""
    for stage in final_chain(text):
        users = [
            i.arguments.split()[0]
            for i in stage.instructions
            if i.keyword == "USER" and i.arguments
        ]
        if users:
            return users[-1]
    return None


def is_root_user(user: str) -> bool:
    """root, 0, root:group, 0:0."""
    return user.split(":", 1)[0].strip().strip("\"'") in _ROOT_USERS


def is_rhel_family(image: str) -> bool:
    """UBI, RHEL, CentOS, Fedora, Rocky, Alma, Amazon Linux, Oracle Linux images."""
    return bool(_RHEL_FAMILY.search(image))


def final_entrypoint(text: str) -> Instruction | None:
    """The ENTRYPOINT in force in the final stage, if any."""
    for stage in final_chain(text):
        found = [i for i in stage.instructions if i.keyword == "ENTRYPOINT"]
        if found:
            return found[-1]
    return None
