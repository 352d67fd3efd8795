"""Argument types shared by every subcommand's parser (``check``, ``grade``, ``gradescope``).

Each turns one command-line word into a value or raises :class:`argparse.ArgumentTypeError`
with one line that echoes the word and says what was expected; the parser prints it and exits
with :data:`gradcheck.exitcodes.EXIT_USAGE`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["positive", "whole_number"]


def whole_number(minimum: int, what: str = "a whole number") -> Callable[[str], int]:
    """An argparse type: an int of at least ``minimum``, or one line saying what was expected."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} of at least {minimum}")
        return value

    return parse


def positive(text: str) -> float:
    """An argparse type: a finite number above zero (``nan`` and ``inf`` are no time limits)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite positive number")
    return value
