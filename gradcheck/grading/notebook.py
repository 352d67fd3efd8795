"""A rubric's visible tests, run from a notebook cell against the function just defined.

``visible_tests(forward_backward)`` checks the function as the grader does (the rubric's seed,
batch, specification, adapter, mode, time limit and search, on the CPU) and scores it with the
grader's own :func:`~gradcheck.grading.score.score_submission`, so each test's verdict is the
one ``gradcheck grade`` gives. What differs is where it runs: in the student's kernel, without
the sandbox (it is the student's own code, on the student's machine), and without the
fresh-copy reload that only a file allows. Only tests and policies whose visibility is
``visible`` are shown; in Jupyter the result renders as a table with each failure's diagnosis
and heatmaps.
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ..records import describe_failure
from ..report import Report
from .policies import check_policies
from .rubric import Rubric, load_rubric
from .score import Score, score_submission

__all__ = ["VISIBLE", "VisibleTests", "visible_tests"]

VISIBLE = "visible"  # the rubric visibility a student may see before the deadline
_SHOWN = 3  # failures shown per test


@dataclass(frozen=True)
class VisibleTests:
    """The visible part of a grade: each visible test's points, and the report behind them."""

    rubric: Rubric
    score: Score
    report: Report

    @property
    def tests(self) -> list[Any]:
        return [t for t in self.score.tests if t.test.visibility == VISIBLE]

    @property
    def policies(self) -> list[Any]:
        return [p for p in self.score.policies if p.policy.visibility == VISIBLE]

    @property
    def points(self) -> tuple[float, float]:
        """Points earned and available in the visible tests and policies."""
        shown = [*self.tests, *self.policies]
        return sum(t.score for t in shown), sum(t.max_score for t in shown)

    def lines(self) -> list[str]:
        """The result as plain text, one test a line, failures indented under it."""
        got, top = self.points
        lines = [f"{self.rubric.name}: {got:g} / {top:g} in the visible tests"]
        for t in self.tests:
            lines.append(f"{'✓' if t.ok else '✗'} {t.test.number} {t.test.name}: {t.score:g} / {t.max_score:g}")
            lines += [f"    {f.check}: {describe_failure(f)}" for f in t.failures[:_SHOWN]]
        for p in self.policies:
            mark = "✗" if p.finding.violated else "✓"
            lines.append(f"{mark} {p.policy.number} {p.policy.name}: {p.score:g} / {p.max_score:g}")
        return lines

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        from ..reports.visible import visible_tests_html

        return visible_tests_html(self)


def _source(fn: Callable[..., Any]) -> list[tuple[str, str]]:
    """The function's source, for the rubric's policies (none when Python cannot find it)."""
    try:
        return [(getattr(fn, "__qualname__", "function"), textwrap.dedent(inspect.getsource(fn)))]
    except (OSError, TypeError):
        return []


def visible_tests(fn: Callable[..., Any], *, rubric: Rubric | str | None = None) -> VisibleTests:
    """Check ``fn`` under ``rubric`` (a :class:`Rubric`, a TOML file, or the built-in one) as the
    grader does, and keep the visible tests."""
    from ..api import check
    from .assess import DEVICES

    if not callable(fn):
        raise TypeError(f"fn must be the function to check, got {type(fn).__name__}")
    if rubric is None or isinstance(rubric, str):
        rubric = load_rubric(rubric)
    elif not isinstance(rubric, Rubric):
        raise TypeError(f"rubric must be a Rubric, a path or None, got {type(rubric).__name__}")
    settings = rubric.settings
    report = check(
        fn,
        function=rubric.function,
        spec=replace(settings.spec, batch=rubric.batch),
        seed=rubric.seed,
        devices=DEVICES,
        timeout=rubric.timeout,
        max_examples=rubric.max_examples,
        adapter=settings.adapter,
        mode=settings.mode,
    )
    findings = check_policies(rubric.policies, _source(fn))
    return VisibleTests(rubric, score_submission(rubric, report, findings), report)
