"""verify_shell: an edited script or Dockerfile is the old one plus the added options only."""

from __future__ import annotations

import pytest

from celeryfix.edits import apply_edits
from celeryfix.models import Edit
from celeryfix.verify import VerificationError, verify_shell

F = " --uid=nobody --gid=nogroup"


def edited(text: str, after: str, insert: str = F) -> tuple[str, list[Edit]]:
    offset = text.index(after) + len(after)
    edits = [Edit("x", offset, offset, insert, "CF103")]
    return apply_edits(text, edits), edits


@pytest.mark.parametrize(
    ("path", "text", "after"),
    [
        ("start", "#!/bin/sh\nexec celery -A p worker -l info\n", "info"),
        ("start", "#!/bin/sh\r\nexec celery -A p \\\r\n  worker\r\n", "worker"),
        (
            "w.sh",
            "#!/bin/sh\nexec watchfiles celery.__main__.main --args '-A p worker'\n",
            "worker",
        ),
        ("Dockerfile", 'FROM a\nCMD ["celery", "worker"]\n', '"worker"'),
        ("Dockerfile", 'FROM a\nCMD ["sh", "-c", "celery worker"]\n', "worker"),
        ("Dockerfile", "FROM a\nCMD celery \\\n  worker\n", "worker"),
    ],
)
def test_accepts_added_options(path: str, text: str, after: str) -> None:
    insert = ', "--uid=nobody", "--gid=nogroup"' if after == '"worker"' else F
    new, edits = edited(text, after, insert)
    verify_shell(path, text, new, edits)


@pytest.mark.parametrize(
    ("path", "text", "after", "insert"),
    [
        # the options land in a comment: no command gains them
        ("start", "#!/bin/sh\nexec celery worker # run\n", "# run", F),
        # a word changes
        ("start", "#!/bin/sh\nexec celery worker\n", "celery", "x"),
        # the quote is closed early: the command is another one
        ("start", "#!/bin/sh\nexec celery worker\n", "worker", " '--uid=nobody"),
        # after a closing JSON bracket, the instruction becomes shell form
        ("Dockerfile", 'FROM a\nCMD ["celery", "worker"]\n', "]", F),
        # inside a RUN heredoc-free instruction that is not a command of the image
        ("Dockerfile", "FROM a\nLABEL x=1\nCMD celery worker\n", "x=1", F),
    ],
)
def test_rejects_anything_else(path: str, text: str, after: str, insert: str) -> None:
    new, edits = edited(text, after, insert)
    with pytest.raises(VerificationError):
        verify_shell(path, text, new, edits)
