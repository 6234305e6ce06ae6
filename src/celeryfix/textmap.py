"""Text with a map back to where each character came from.

A compose `command:` is a YAML scalar (quoted, folded, escaped) whose value is split into shell
words (quoted, escaped), one of which may be a whole `sh -c` script. Every layer is a
`MappedText`: its characters and, for each, the span of the parent text it was decoded from.
An insertion point found in the innermost layer is carried out through every layer to a byte
offset in the file, so the edit is a splice that moves no other byte.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MappedText:
    """`text`, where `spans[i]` is the [start, end) of `text[i]` in the parent text."""

    text: str
    spans: tuple[tuple[int, int], ...]
    # Where the (possibly empty) text sits in the parent when it has no character to point at.
    anchor: int = 0

    def __post_init__(self) -> None:
        if len(self.text) != len(self.spans):
            raise ValueError("a MappedText needs one span per character")

    @classmethod
    def identity(cls, text: str, offset: int = 0) -> MappedText:
        """The text as it stands in its parent, starting at `offset`."""
        return cls(text, tuple((offset + i, offset + i + 1) for i in range(len(text))), offset)

    def parent_offset_after(self, index: int) -> int:
        """The parent offset just after `text[index - 1]` (an insertion point after it)."""
        if index <= 0:
            return self.spans[0][0] if self.spans else self.anchor
        return self.spans[index - 1][1]

    def parent_offset_before(self, index: int) -> int:
        """The parent offset just before `text[index]`."""
        if index >= len(self.text):
            return self.parent_offset_after(len(self.text))
        return self.spans[index][0]

    def slice(self, start: int, end: int) -> MappedText:
        """The characters [start, end) with their spans."""
        anchor = self.parent_offset_before(start)
        return MappedText(self.text[start:end], self.spans[start:end], anchor)

    def compose(self, parent: MappedText) -> MappedText:
        """This layer mapped through `parent` to the grandparent's offsets."""
        spans = tuple(
            (parent.parent_offset_before(s), parent.parent_offset_after(e)) for s, e in self.spans
        )
        return MappedText(self.text, spans, parent.parent_offset_before(self.anchor))
