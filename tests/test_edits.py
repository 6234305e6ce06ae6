"""Edits as text splices: exact results, merged insertions, and overlaps refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from celeryfix.edits import EditConflict, apply_edits, merge_insertions
from celeryfix.models import Edit

F = "docker-compose.yml"
TEXT = "services:\r\n  w:\r\n    command: celery -A crm worker\r\n"
WORKER_END = TEXT.index("worker") + len("worker")


def insert(offset: int, text: str, rule: str = "CF101", path: str = F) -> Edit:
    return Edit(path, offset, offset, text, rule)


def test_no_edits_is_the_same_text() -> None:
    assert apply_edits(TEXT, []) == TEXT


def test_one_insertion_touches_nothing_else() -> None:
    new = apply_edits(TEXT, [insert(WORKER_END, " --uid=nobody --gid=nogroup")])
    assert (
        new
        == "services:\r\n  w:\r\n    command: celery -A crm worker --uid=nobody --gid=nogroup\r\n"
    )


def test_replacement_and_deletion() -> None:
    start = TEXT.index("crm")
    edits = [
        Edit(F, start, start + 3, "proj", "CF101"),
        Edit(F, 0, len("services:"), "services: # x", "CF102"),
        Edit(F, TEXT.index(" -A"), TEXT.index(" -A") + 3, "", "CF101"),
    ]
    assert (
        apply_edits(TEXT, edits) == "services: # x\r\n  w:\r\n    command: celery proj worker\r\n"
    )


def test_edits_at_both_ends() -> None:
    edits = [insert(len(TEXT), "x: 1\r\n"), insert(0, "# top\r\n")]
    assert apply_edits(TEXT, edits) == "# top\r\n" + TEXT + "x: 1\r\n"


def test_order_of_the_given_edits_does_not_matter_for_distinct_offsets() -> None:
    a, b = insert(3, "A"), Edit(F, 5, 7, "B", "CF102")
    assert apply_edits("0123456789", [a, b]) == apply_edits("0123456789", [b, a]) == "012A34B789"


def test_insertions_at_one_offset_are_merged_in_order() -> None:
    edits = [
        insert(WORKER_END, " --uid=nobody", "CF101"),
        insert(WORKER_END, " --gid=nogroup", "CF102"),
        insert(WORKER_END, " -s /tmp/celerybeat-schedule", "CF102"),
    ]
    [merged] = merge_insertions(edits)
    assert merged == Edit(
        F,
        WORKER_END,
        WORKER_END,
        " --uid=nobody --gid=nogroup -s /tmp/celerybeat-schedule",
        "CF101+CF102",
    )
    assert apply_edits(TEXT, edits) == TEXT.replace("worker", "worker" + merged.text)


def test_merge_keeps_other_edits_sorted_and_apart() -> None:
    edits = [
        insert(9, "b", "CF201"),
        Edit(F, 2, 4, "x", "CF101"),
        insert(9, "c", "CF202"),
        insert(1, "a", "CF203"),
        insert(9, "d", "CF201"),
        insert(4, "y", "CF101", path="compose.yml"),
    ]
    assert merge_insertions(edits) == [
        insert(4, "y", "CF101", path="compose.yml"),
        insert(1, "a", "CF203"),
        Edit(F, 2, 4, "x", "CF101"),
        insert(9, "bcd", "CF201+CF202"),
    ]


def test_insertion_right_before_and_right_after_a_replacement() -> None:
    edits = [Edit(F, 2, 4, "XY", "CF101"), insert(2, "<", "CF102"), insert(4, ">", "CF102")]
    assert apply_edits("0123456", edits) == "01<XY>456"


@pytest.mark.parametrize(
    "edits",
    [
        [Edit(F, 2, 5, "x", "CF101"), Edit(F, 4, 6, "y", "CF102")],  # overlapping replacements
        [Edit(F, 2, 5, "x", "CF101"), Edit(F, 2, 5, "x", "CF102")],  # the same span twice
        [Edit(F, 2, 6, "x", "CF101"), insert(4, "y", "CF102")],  # an insertion inside a span
        [Edit(F, 0, 10, "", "CF101"), Edit(F, 3, 4, "z", "CF102")],  # nested
    ],
    ids=["overlap", "same-span", "insert-inside", "nested"],
)
def test_overlapping_edits_are_a_conflict(edits: list[Edit]) -> None:
    with pytest.raises(EditConflict, match="overlaps another edit"):
        apply_edits("0123456789", edits)


@pytest.mark.parametrize(
    "edit",
    [
        Edit(F, 11, 11, "x", "CF101"),
        Edit(F, 8, 12, "x", "CF101"),
        Edit(F, 5, 3, "x", "CF101"),
        Edit(F, -1, 0, "x", "CF101"),
    ],
    ids=["past-end", "ends-past-end", "backwards", "negative"],
)
def test_offsets_outside_the_file_are_a_conflict(edit: Edit) -> None:
    with pytest.raises(EditConflict, match=f"{F}: edit CF101 at {edit.start}-{edit.end}"):
        apply_edits("0123456789", [edit])


# A model of the splice: mark every character with the edit that replaces it.
@st.composite
def disjoint_edits(draw: st.DrawFn) -> tuple[str, list[Edit]]:
    text = draw(st.text(alphabet="ab\r\n", max_size=30))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=8)))
    edits = []
    for index in range(0, len(cuts) - 1, 2):  # pairs of cuts: spans that cannot overlap
        start, end = cuts[index], cuts[index + 1]
        edits.append(Edit(F, start, end, draw(st.text(alphabet="XY\n", max_size=4)), "CF101"))
    return text, draw(st.permutations(edits))


@given(case=disjoint_edits())
def test_disjoint_edits_splice_like_a_right_to_left_replace(case: tuple[str, list[Edit]]) -> None:
    text, edits = case
    expected = text
    # Right to left, so earlier offsets stay valid; insertions at one offset keep the given order.
    order = sorted(enumerate(edits), key=lambda item: (item[1].start, item[1].end, item[0]))
    for _, edit in reversed(order):
        expected = expected[: edit.start] + edit.text + expected[edit.end :]
    assert apply_edits(text, edits) == expected
