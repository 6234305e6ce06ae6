"""Find the Celery invocations in an argv of tokens, through `sh -c` scripts and wrappers.

Shared by every launch site: the site turns what it reads into tokens that know where they are
written (celeryfix.tokens); this module finds which tokens start a Celery worker or beat.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from celeryfix.invocations import CeleryInvocation, NestedScript, WrappedCelery, analyze_argv
from celeryfix.shellwords import ShellSyntaxError, parse_script, split_shlex
from celeryfix.tokens import ArgvToken, inner_tokens

MAX_DEPTH = 8  # sh -c "sh -c '...'" nesting; deeper is left alone


@dataclass(frozen=True)
class Found:
    """An invocation and the tokens of the layer it was found in."""

    invocation: CeleryInvocation
    tokens: tuple[ArgvToken, ...]

    @property
    def last(self) -> ArgvToken:
        """The token after which options are appended."""
        return self.tokens[self.invocation.end_index - 1]


@dataclass(frozen=True)
class Wrapped:
    """`<tool> celery ...`: not Celery's own command line."""

    tool: str


def find_invocations(tokens: Sequence[ArgvToken], _depth: int = 0) -> Iterator[Found | Wrapped]:
    """Every Celery invocation in `tokens`, looking into scripts that a shell runs."""
    if _depth > MAX_DEPTH:
        return
    for item in analyze_argv([token.value for token in tokens]):
        if isinstance(item, CeleryInvocation):
            yield Found(item, tuple(tokens))
        elif isinstance(item, WrappedCelery):
            yield Wrapped(item.tool)
        elif isinstance(item, NestedScript):
            yield from _nested(item, tokens[item.token_index], _depth)


def _layers(item: NestedScript, holder: ArgvToken) -> list[list[ArgvToken]]:
    """The token lists inside a token: a script's simple commands, or a split argv string."""
    if item.kind == "script":
        return [inner_tokens(holder, list(c.words)) for c in parse_script(holder.value)]
    try:
        words = split_shlex(holder.value[item.value_offset :])
    except ShellSyntaxError:
        return []
    prefix = [ArgvToken(word, None, None) for word in item.prefix]
    return [prefix + inner_tokens(holder, words, item.value_offset)]


def _nested(item: NestedScript, holder: ArgvToken, depth: int) -> Iterator[Found | Wrapped]:
    for tokens in _layers(item, holder):
        for found in find_invocations(tokens, depth + 1):
            if (
                isinstance(found, Found)
                and item.drops_privileges
                and not found.invocation.drops_privileges
            ):
                invocation = dataclasses.replace(
                    found.invocation, drops_privileges=item.drops_privileges
                )
                found = Found(invocation, found.tokens)
            yield found
