"""A shell script's text as the shell runs it, cut into commands of tokens mapped to the file.

A script checked out with CRLF line breaks is run after `sed -i 's/\\r$//g'` (cookiecutter-django's
Dockerfiles do exactly that), or not at all: the `\\r` before each line break is not part of the
commands, so the script is read without it and new options go before it.
"""

from __future__ import annotations

from celeryfix.launch import Found, Wrapped, find_invocations
from celeryfix.shellwords import parse_script
from celeryfix.textmap import MappedText
from celeryfix.tokens import ArgvToken, word_tokens


def shell_layer(text: str) -> MappedText:
    """`text` without the `\\r` of its CRLF line breaks, mapped to offsets of `text`."""
    keep = [i for i, char in enumerate(text) if char != "\r" or not text.startswith("\n", i + 1)]
    return MappedText("".join(text[i] for i in keep), tuple((i, i + 1) for i in keep), 0)


def script_commands(text: str) -> list[list[ArgvToken]]:
    """The simple commands of a script; raises ShellSyntaxError where it cannot be read reliably
    (an unterminated quote or substitution), so that nothing of it is edited."""
    layer = shell_layer(text)
    return [word_tokens(list(c.words), layer) for c in parse_script(layer.text, strict=True)]


def script_invocations(commands: list[list[ArgvToken]]) -> list[tuple[Found | Wrapped, int]]:
    """Every Celery invocation of the commands, with the offset of its command."""
    return [
        (found, tokens[0].offset)
        for tokens in commands
        if tokens
        for found in find_invocations(tokens)
    ]
