"""Argv tokens that know where they are written, for every kind of launch site.

A token is either an item of a YAML list (new options become new items after it) or a word of a
text (new options are spliced into the text just after it). Words are mapped through every layer
— YAML scalar, shell word splitting, a `sh -c` script — back to offsets in the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from ruamel.yaml.nodes import ScalarNode, SequenceNode

from celeryfix.shellwords import Word, parse_script
from celeryfix.textmap import MappedText


@dataclass(frozen=True)
class ArgvToken:
    value: str
    chars: MappedText | None  # value characters -> file offsets (None: not editable)
    after: int | None  # file offset just after the token's raw text, for text insertions
    item: ScalarNode | None = None  # list form: the item node
    sequence: SequenceNode | None = None  # list form: the list holding it

    @property
    def offset(self) -> int:
        """Where the token is written (for line numbers and grouping)."""
        if self.item is not None:
            return int(self.item.start_mark.index)
        return self.after or 0


def word_tokens(words: list[Word], layer: MappedText | None) -> list[ArgvToken]:
    """Tokens for shell words of a layer whose characters map through `layer` to the file."""
    if layer is None:
        return [ArgvToken(word.value, None, None) for word in words]
    return [
        ArgvToken(word.value, word.chars.compose(layer), layer.parent_offset_after(word.end))
        for word in words
    ]


def inner_tokens(token: ArgvToken, words: list[Word], offset: int = 0) -> list[ArgvToken]:
    """Tokens for the words found in token.value[offset:] (a `sh -c` script, `--args '...'`)."""
    if token.chars is None:
        return word_tokens(words, None)
    return word_tokens(words, token.chars.slice(offset, len(token.chars.text)))


def script_commands(text: str, offset: int = 0) -> list[list[ArgvToken]]:
    """The simple commands of a shell text written at `offset` of a file, as token lists."""
    layer = MappedText.identity(text, offset)
    return [word_tokens(list(command.words), layer) for command in parse_script(text)]
