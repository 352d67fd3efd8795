"""The search: hypothesis explores cases beyond the built-in list and shrinks a failure to its minimum.

Both faces use this one function, so ``gradcheck check`` and ``pytest --gradcheck-impl`` reach
the same verdict. Each example is one :class:`~gradcheck.cases.CaseSpec` drawn from
:func:`gradcheck.strategies.case_specs`, checked with :func:`gradcheck.checker.check_cases`
(the case, then the same case again, so a result that depends on earlier calls shows). Any
failed check makes the example fail; hypothesis then shrinks it toward shallow, narrow, B = 1,
cpu, float64, and :func:`explore` returns the results of that minimal failing example.

An implementation with hidden state can fail an example because of the examples before it. So
when a fresh copy of the implementation can be loaded, the minimal case is judged once more as
the first call of a fresh copy: its failures are then its own, and if it passes there, the
search's earlier calls were to blame and the failure is reported as ``hidden-state``.

Hypothesis runs quietly and without its example database: nothing is printed (``--json`` owns
stdout) and nothing is written to ``.hypothesis/``; the seed alone decides every draw. (Like any
``@given`` test it also seeds Python's ``random`` for each example, so an implementation that
draws from ``random`` behaves the same on every replay.) Being a ``@given`` run itself, the search
must not be started from inside another one: there, pass explicit ``cases`` to
:func:`gradcheck.check`, which then does not search.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.strategies import SearchStrategy

from . import strategies as gs
from .cases import CaseSpec
from .checker import DEFAULT_TIMEOUT, CaseResult, check_cases, fresh_copy_passes
from .defaults import DEFAULT_MAX_EXAMPLES  # re-exported: the search's default size
from .records import describe_failure
from .spec import SEED, Spec

__all__ = ["DEFAULT_MAX_EXAMPLES", "Exploration", "explore", "search_space"]


@dataclass
class Exploration:
    """What the search found: the minimal failing example's results, or nothing."""

    results: list[CaseResult] = field(default_factory=list)  # the case and its repeat; empty if none failed
    examples: int = 0  # cases checked, shrinking included
    elapsed_s: float = 0.0
    note: str | None = None  # why the search stopped early or could not shrink, if it did

    @property
    def minimal(self) -> CaseSpec | None:
        """The smallest failing case, or ``None``."""
        return self.results[0].case if self.results else None


class _Failed(Exception):
    """Raised inside the search so hypothesis shrinks; carries the results of the failing case."""

    def __init__(self, results: list[CaseResult]):
        super().__init__(describe_failure(results[0].failures[0]) if results[0].failures else "failed")
        self.results = results


class _Stop(BaseException):
    """A timeout: not a failure to shrink (every retry would cost a time limit) but the end."""

    def __init__(self, results: list[CaseResult]):
        super().__init__("the implementation timed out")
        self.results = results


def search_space(
    spec: Spec = SEED, *, devices: Sequence[str] = ("cpu",), half: bool = False
) -> SearchStrategy[CaseSpec]:
    """The cases the search draws from: batches only if ``spec.batch``, on ``devices``."""
    return gs.case_specs(
        batch=gs.batch_sizes() if spec.batch else None,
        device=gs.devices(names=devices),
        dtype=gs.dtypes(half=half),
    )


def _settings(max_examples: int) -> settings:
    """Every field that matters set here, so no loaded profile (dev, ci, ...) changes a verdict."""
    return settings(
        settings.get_profile("default"),
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=(Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
        verbosity=Verbosity.quiet,
        print_blob=False,
        suppress_health_check=[HealthCheck.too_slow],
    )


def _failed_results(error: BaseException) -> list[CaseResult]:
    """The results carried by the search's own exception, wherever hypothesis wrapped it."""
    if isinstance(error, (_Failed, _Stop)):
        return error.results
    for inner in getattr(error, "exceptions", ()):  # FlakyFailure and other exception groups
        found = _failed_results(inner)
        if found:
            return found
    return []


def _judge_fresh(
    results: list[CaseResult], fresh: Callable[[], Callable[..., Any]], spec: Spec, timeout: float | None
) -> list[CaseResult]:
    """The minimal case again, as the first call of a freshly loaded copy (see the module doc)."""
    clean = check_cases(fresh(), [results[0].case], spec=spec, timeout=timeout, fresh=fresh)
    if any(r.failures for r in clean.results):
        return clean.results
    for result in results:
        if result.failures:
            result.failures = [fresh_copy_passes(result.case, result.failures[0])]
    return results


def explore(
    fn: Callable[..., Any],
    *,
    spec: Spec = SEED,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    seed: int = 0,
    devices: Sequence[str] = ("cpu",),
    timeout: float | None = DEFAULT_TIMEOUT,
    strategy: SearchStrategy[CaseSpec] | None = None,
    fresh: Callable[[], Callable[..., Any]] | None = None,
) -> Exploration:
    """Search for a case where ``fn`` fails, and shrink it to the smallest.

    ``seed`` fixes hypothesis's draws, so the same call gives the same verdict and the same
    minimal case. ``strategy`` replaces :func:`search_space` (e.g. to search deeper networks).
    ``fresh`` loads a new copy of the implementation (see the module doc). ``max_examples=0``
    searches nothing.
    """
    found = Exploration()
    if max_examples <= 0:
        return found
    start = time.perf_counter()

    @hypothesis_seed(seed)
    @_settings(max_examples)
    @given(search_space(spec, devices=devices) if strategy is None else strategy)
    def search(case: CaseSpec) -> None:
        found.examples += 1
        run = check_cases(fn, [case], spec=spec, timeout=timeout)
        if any(f.kind == "timeout" for r in run.results for f in r.failures):
            raise _Stop(run.results)
        if any(r.failures for r in run.results):
            raise _Failed(run.results)

    try:
        search()
    except _Stop as stop:
        found.results, found.note = stop.results, "stopped at the first timeout"
        fresh = None  # another copy would hang as long
    except Exception as error:  # _Failed, or hypothesis's FlakyFailure wrapping it
        found.results = _failed_results(error)
        if not found.results:
            raise
        if not isinstance(error, _Failed):
            found.note = f"the failure did not repeat reliably, so it may not be minimal ({type(error).__name__})"
    if found.results and fresh is not None:
        found.results = _judge_fresh(found.results, fresh, spec, timeout)
    found.elapsed_s = time.perf_counter() - start
    return found
