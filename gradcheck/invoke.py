"""Calling code under test without letting it take the harness down.

Whatever happens inside the call (an exception, ``sys.exit``, a hang, ten thousand prints)
comes back as a :class:`CallOutcome`: data, never a traceback through the harness. Output is
captured (and capped) so that ``--json`` keeps stdout to itself. The time limit uses
``SIGALRM``, which interrupts Python-level loops and sleeps; it is only available in the main
thread on POSIX, and elsewhere calls run without a limit. This is containment for honest
mistakes; hostile code belongs in :mod:`gradcheck.sandbox`'s separate process.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import linecache
import os
import signal
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["CallOutcome", "CallTimeout", "HarnessError", "NotApplicable", "call_contained", "register_source"]

OUTPUT_LIMIT = 64_000  # characters of captured output kept per call
# Frames under these folders are the harness's or torch's, not the code under test's. Torch is
# located, not imported: ``gradcheck --help`` loads this module and must not pay for torch.
_TORCH = importlib.util.find_spec("torch")
_HARNESS_DIRS = tuple(
    os.path.dirname(os.path.abspath(path)) + os.sep
    for path in (__file__, _TORCH.origin if _TORCH and _TORCH.origin else __file__)
)


class HarnessError(Exception):
    """The harness's own failure inside a contained call (an adapter's machinery, not the code
    under test): :func:`call_contained` lets it through, so it is never reported as the code's
    exception; the command line prints its one line and exits with :attr:`exit_code`."""

    exit_code = 3  # gradcheck.exitcodes.EXIT_INTERNAL


class NotApplicable(HarnessError):
    """A configuration that cannot apply to this code (a variable the adapter names and the code
    never sets): no verdict about the code, exit 2 like any other wrong command line."""

    exit_code = 2  # gradcheck.exitcodes.EXIT_USAGE


class CallTimeout(BaseException):
    """Raised inside the call when its time is up; a BaseException so ``except Exception`` can't eat it."""


@dataclass
class CallOutcome:
    """What one call did: its value, or the error it raised, where, and what it printed."""

    value: Any = None
    error: str | None = None  # "ValueError: shapes do not match"
    where: str | None = None  # "student.py:14: W_grads[l] = d @ a[l - 1].T"
    timed_out: bool = False
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out

    def describe_error(self) -> str:
        """One line: the error and the implementation's own line that raised it."""
        return f"{self.error} (at {self.where})" if self.where else str(self.error)


class _CappedBuffer(io.StringIO):
    def write(self, text: str) -> int:
        room = OUTPUT_LIMIT - self.tell()
        if room > 0:
            super().write(text[:room])
        return len(text)


def register_source(filename: str, source: str) -> None:
    """Make code compiled from a string (a notebook cell) quotable in error locations."""
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)


def _own_frame(tb) -> str | None:
    """The innermost frame that belongs to the code under test, not to torch or the harness."""
    frames = [f for f in traceback.extract_tb(tb) if not os.path.abspath(f.filename).startswith(_HARNESS_DIRS)]
    if not frames:
        return None
    f = frames[-1]
    line = (f.line or linecache.getline(f.filename, f.lineno or 0)).strip()
    return (
        f"{os.path.basename(f.filename)}:{f.lineno}: {line}" if line else f"{os.path.basename(f.filename)}:{f.lineno}"
    )


@contextlib.contextmanager
def _time_limit(seconds: float | None):
    if not seconds or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise CallTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def call_contained(fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> CallOutcome:
    """Call ``fn(*args)``; every way it can fail becomes a field of the outcome."""
    captured = _CappedBuffer()
    outcome = CallOutcome()
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured), _time_limit(timeout):
            outcome.value = fn(*args)
    except CallTimeout as exc:
        outcome.timed_out = True
        outcome.error = f"did not return within {timeout:g} s"
        outcome.where = _own_frame(exc.__traceback__)
    except (KeyboardInterrupt, HarnessError):
        raise
    except SystemExit as exc:
        outcome.error = f"called sys.exit({exc.code!r})"
        outcome.where = _own_frame(exc.__traceback__)
    except BaseException as exc:  # noqa: BLE001 - anything the code under test raises is data
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        outcome.error = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        outcome.where = _own_frame(exc.__traceback__)
    outcome.output = captured.getvalue()
    return outcome
