"""Text from a submission, made safe to write: feedback, results, the CSV, logs and progress.

Everything a submission controls (its exception messages, its output, its file and folder
names) reaches files and terminals. Three things in it must never get through raw:

- lone surrogates (``"\\ud800"``, or the ``"\\udcff"`` that Python decodes a non-UTF-8 file
  name byte to): UTF-8 cannot encode them, so writing them would abort the batch;
- control characters (ANSI escapes, carriage returns, bidirectional overrides): they rewrite
  what a terminal or an editor shows, and in a name a newline fakes a progress line;
- a CSV cell that starts with ``= + - @``, a tab or a carriage return: a spreadsheet runs it as
  a formula (OWASP "CSV injection"); it is prefixed with a quote.

Escapes are visible and reversible by eye: ``\\xff`` for an undecodable byte, ``\\u202e`` for a
bidirectional override, ``\\x1b`` for ESC. :func:`safe_name` also escapes newlines, tabs and
backslashes, so two different names never look the same.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["FORMULA_STARTS", "csv_cell", "safe_data", "safe_name", "safe_text"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
_UNSAFE_TEXT = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff{_BIDI}]")
_UNSAFE_NAME = re.compile(f"[\\\\\x00-\x1f\x7f-\x9f\ud800-\udfff{_BIDI}]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, decoded by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if char == "\\":
        return "\\\\"
    if char in "\n\t\r":
        return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}[char]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: object) -> str:
    """``text`` (any object, as ``str``) with lone surrogates and control characters escaped;
    newlines and tabs stay, so multi-line messages keep their lines."""
    return _UNSAFE_TEXT.sub(_escape, str(text))


def safe_name(name: object) -> str:
    """A submission's name as one printable line: :func:`safe_text`, and newlines, tabs and
    backslashes escaped too (so the escaping is one-to-one)."""
    return _UNSAFE_NAME.sub(_escape, str(name))


def safe_data(value: Any) -> Any:
    """``value`` (JSON-like: dicts, lists, strings, numbers) with every string, keys included,
    passed through :func:`safe_text`."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(k) if isinstance(k, str) else k: safe_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [safe_data(v) for v in value]
    return value


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a string that starts like a formula gets a leading
    quote; numbers and everything else are left as they are."""
    if isinstance(value, str):
        value = safe_text(value)
        if value.startswith(FORMULA_STARTS):
            return "'" + value
    return value
