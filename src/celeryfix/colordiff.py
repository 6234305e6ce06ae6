"""Colour for diffs on a terminal (rich, imported only when colour is on)."""

from __future__ import annotations

from typing import TextIO


def print_colored(diff: str, out: TextIO) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(file=out, force_terminal=True, highlight=False, soft_wrap=True)
    for line in diff.splitlines():
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("@@"):
            style = "cyan"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        console.print(Text(line.rstrip("\r"), style=style))
