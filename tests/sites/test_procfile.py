"""What the site rules share beyond the launch policy (celeryfix.sites.procfile): how an unsafe
rule runs when it is not selected, and how a file's edits are settled and checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from celeryfix.config import resolve_options
from celeryfix.models import Edit
from celeryfix.sites.site_plans import SiteMode, settle_edits, unsafe_site_mode
from celeryfix.verify import VerificationError


@pytest.mark.parametrize(
    ("cli", "mode"),
    [
        ({}, SiteMode.REPORT),
        ({"select": ["CF105"]}, SiteMode.EDIT),
        ({"select": ["procfile-runs-as-root"]}, SiteMode.EDIT),
        ({"select": ["CF1"]}, SiteMode.REPORT),
        ({"select": ["ALL"]}, SiteMode.REPORT),
        ({"select": ["CF201"]}, None),
        ({"ignore": ["CF105"]}, None),
        ({"ignore": ["CF10"]}, None),
        ({"select": ["CF105"], "ignore": ["CF105"]}, None),
    ],
)
def test_unsafe_site_mode(tmp_path: Path, cli: dict[str, Any], mode: SiteMode | None) -> None:
    assert unsafe_site_mode(resolve_options(tmp_path, cli), "CF105") is mode


TEXT = "worker: celery -A p worker\n"
END = TEXT.index("\n")


def _never(old: str, new: str, edits: list[Edit]) -> None:
    raise VerificationError("Procfile: differs")


def _always(old: str, new: str, edits: list[Edit]) -> None:
    return None


def test_the_same_edit_twice_is_made_once() -> None:
    edit = Edit("Procfile", END, END, " --uid=nobody --gid=nogroup", "CF105")
    plan = settle_edits("Procfile", TEXT, [edit, edit], "CF105", _always)
    assert plan.edits == [edit] and plan.notes == []


def test_different_edits_at_one_place_are_dropped_with_a_note() -> None:
    edits = [
        Edit("Procfile", END, END, " --uid=nobody --gid=nogroup", "CF105"),
        Edit("Procfile", END, END, " --uid=nobody --gid=nobody", "CF105"),
    ]
    plan = settle_edits("Procfile", TEXT, edits, "CF105", _always)
    assert plan.edits == []
    assert [n.message for n in plan.notes] == [
        "the command is written once and shared by runners that need different changes: left alone"
    ]


def test_a_failed_check_drops_every_edit_of_the_file_with_a_note() -> None:
    edit = Edit("Procfile", END, END, " --uid=nobody --gid=nogroup", "CF105")
    plan = settle_edits("Procfile", TEXT, [edit], "CF105", _never)
    assert plan.edits == []
    assert plan.notes[0].message.startswith("internal check failed, nothing of this file")


def test_the_procfile_check_refuses_an_edit_outside_the_command() -> None:
    from celeryfix.sites.procfile import _check_procfile

    check = _check_procfile("Procfile")
    good = Edit("Procfile", END, END, " --uid=nobody", "CF105")
    check(TEXT, TEXT[:END] + good.text + TEXT[END:], [good])
    renamed = Edit("Procfile", 6, 6, " --uid=nobody", "CF105")  # into the process name
    with pytest.raises(VerificationError):
        check(TEXT, TEXT[:6] + renamed.text + TEXT[6:], [renamed])
    quoted = "worker: sh -c 'celery -A p worker' # x\n"
    at = quoted.index(" # x")
    comment = Edit("Procfile", at + 4, at + 4, " --uid=nobody", "CF105")  # into the comment
    with pytest.raises(VerificationError):
        check(quoted, quoted[: at + 4] + comment.text + quoted[at + 4 :], [comment])
