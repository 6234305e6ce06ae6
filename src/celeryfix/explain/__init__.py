"""`celeryfix explain`: read a worker, beat or `docker compose logs` output and explain it.

For each known warning or startup error (catalog.py) the report says where it first appeared,
what it means and which rule fixes it, or what to do by hand.
"""

from __future__ import annotations

import codecs
import sys
from pathlib import Path

from celeryfix.explain.render import json_report, text_report
from celeryfix.explain.scan import Finding, find_known

__all__ = ["Finding", "LogUnreadable", "find_known", "json_report", "read_log", "text_report"]


class LogUnreadable(Exception):
    """The log cannot be read: exit 2."""


def read_log(source: str) -> str:
    """The text of the file `source`, or of stdin for `-`; undecodable bytes become U+FFFD."""
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as error:
        raise LogUnreadable(f"cannot read {source}: {error.strerror or error}") from None
    return decode_log(data)


def decode_log(data: bytes) -> str:
    """UTF-8 (BOM or not), or UTF-16 with a BOM (what PowerShell's `>` writes)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8-sig", errors="replace")
