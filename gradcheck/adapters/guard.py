"""Whose error is it: the code under test's, or the adapter's own?

An adapter runs harness code (building a neuron list, spreading parameters into a call, reading
gradients back) around calls into the code under test. An exception from the code under test is
its own verdict (a failed ``call`` check, exit 1); an exception from the adapter's own lines is
a harness bug and must never be blamed on the student. :func:`student` marks the first kind as
it passes through, and :func:`machinery` turns every other exception into a
:class:`~gradcheck.invoke.HarnessError`, which :func:`gradcheck.invoke.call_contained` lets
through to the command line's one line and exit 3.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from ..invoke import HarnessError

__all__ = ["machinery", "student"]


class _Raised(Exception):
    """Carries an exception raised by the code under test through the adapter's own lines."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


def student(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, a call into the code under test: what it raises stays its own."""
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - re-raised as itself by machinery()
        raise _Raised(exc) from None


@contextlib.contextmanager
def machinery(what: str) -> Iterator[None]:
    """The adapter's own lines: an exception from them is the harness's (exit 3, one line);
    one from a :func:`student` call inside is re-raised as itself, with its own traceback, so
    the report still points at the student's line."""
    try:
        yield
    except _Raised as raised:
        raise raised.original.with_traceback(raised.original.__traceback__) from None
    except HarnessError:
        raise
    except Exception as exc:
        raise HarnessError(
            f"internal error in the {what} adapter: {type(exc).__name__}: {exc} (please report this)"
        ) from exc
