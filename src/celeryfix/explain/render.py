"""What `celeryfix explain` prints: a text report, or a JSON document. Pure functions."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence

from celeryfix import __version__
from celeryfix.explain.catalog import Severity
from celeryfix.explain.scan import Finding

_WIDTH = 88
_BOLD, _DIM, _RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
_SEVERITY_COLOUR = {
    Severity.ERROR: "\x1b[31m",
    Severity.WARNING: "\x1b[33m",
    Severity.ADVICE: "\x1b[36m",
}
NOTHING_FOUND = "No known Celery or Django warnings or startup errors found."


def text_report(findings: Sequence[Finding], color: bool = False) -> str:
    """One block per finding (first line, what it means, the fix), then a summary line."""
    if not findings:
        return NOTHING_FOUND + "\n"

    def paint(style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if color else text

    blocks = []
    for finding in findings:
        known, explained = finding.known, finding.explained
        where = f"line {finding.line}"
        if finding.service is not None:
            where = f"service {finding.service}, {where}"
        severity = paint(_SEVERITY_COLOUR[known.severity], known.severity.value)
        lines = [f"{paint(_BOLD, known.id)} ({severity}): {explained.title}", f"  {where}:"]
        lines += [f"    {paint(_DIM, line.text)}" for line in finding.excerpt]
        lines += _wrapped("What it means: ", explained.meaning)
        fix = f"{', '.join(known.fix.rules)}. " if known.fix.rules else "by hand. "
        lines += _wrapped("Fix: ", fix + explained.advice)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n\n" + summary(findings) + "\n"


def summary(findings: Sequence[Finding]) -> str:
    """`3 known findings: 2 fixed by celeryfix apply (CF101, CF201), 1 to fix by hand.`"""
    automatic = [f for f in findings if f.known.fix.rules]
    rules = sorted({rule for f in automatic for rule in f.known.fix.rules})
    by_hand = len(findings) - len(automatic)
    count = f"{len(findings)} known finding{'s' if len(findings) != 1 else ''}"
    parts = []
    if automatic:
        parts.append(f"{len(automatic)} fixed by `celeryfix apply` ({', '.join(rules)})")
    if by_hand:
        parts.append(f"{by_hand} to fix by hand")
    return f"{count}: {', '.join(parts)}."


def json_report(findings: Sequence[Finding], source: str) -> str:
    """The machine report: stable keys, findings in order of appearance."""
    document = {
        "celeryfix": __version__,
        "source": "<stdin>" if source == "-" else source,
        "findings": [
            {
                "id": finding.known.id,
                "title": finding.explained.title,
                "severity": finding.known.severity.value,
                "service": finding.service,
                "line": finding.line,
                "excerpt": [{"line": line.number, "text": line.text} for line in finding.excerpt],
                "details": finding.explained.values,
                "meaning": finding.explained.meaning,
                "fix": {"rules": list(finding.known.fix.rules), "advice": finding.explained.advice},
            }
            for finding in findings
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _wrapped(label: str, text: str) -> list[str]:
    return textwrap.wrap(
        label + text, _WIDTH, initial_indent="  ", subsequent_indent="    ", break_long_words=False
    )
