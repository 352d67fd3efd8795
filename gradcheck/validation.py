"""Argument checks shared by every keyword-only constructor (strategies, domains, settings).

Each raises with a message that echoes the argument and its value (``min_depth=3 is larger than
max_depth=1``), in the style of hypothesis's own validation; ``error`` is the exception class the
caller's users expect (hypothesis's ``InvalidArgument`` for strategies, ``ValueError`` elsewhere).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["check_int", "check_names", "check_range"]


def check_int(value: object, name: str, minimum: int, *, error: type[Exception] = ValueError) -> None:
    """``value`` is a whole number (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise error(f"{name}={value!r} must be an integer")
    if value < minimum:
        raise error(f"{name}={value} must be at least {minimum}")


def check_range(
    low: object, high: object, low_name: str, high_name: str, minimum: int, *, error: type[Exception] = ValueError
) -> None:
    """Both ends are whole numbers of at least ``minimum`` and ``low <= high``."""
    check_int(low, low_name, minimum, error=error)
    check_int(high, high_name, minimum, error=error)
    assert isinstance(low, int) and isinstance(high, int)
    if low > high:
        raise error(f"{low_name}={low} is larger than {high_name}={high}")


def check_names(
    names: object, name: str, allowed: Sequence[str], *, error: type[Exception] = ValueError
) -> tuple[str, ...]:
    """A non-empty sequence (not a string) of names from ``allowed``, as a tuple."""
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise error(f"{name}={names!r} must be a sequence of names, e.g. {list(allowed[:2])}")
    if not names:
        raise error(f"{name}={list(names)!r} is empty; give at least one of {', '.join(allowed)}")
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise error(f"{name}={list(names)!r}: {unknown[0]!r} is not one of {', '.join(allowed)}")
    return tuple(names)
