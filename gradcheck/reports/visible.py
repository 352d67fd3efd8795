"""A notebook's run of a rubric's visible tests (:mod:`gradcheck.grading.notebook`) as HTML: one
row per test, each failing test with its failures' text and its gradients' heatmaps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .page import Picture
from .sources import failing_gradients, pictures
from .templates import render

# The result rendered here is a gradcheck.grading.notebook.VisibleTests. It is not imported,
# not even for typing: that module calls this one, and the layers stay one-way.
VisibleTests = Any

__all__ = ["VisibleRow", "visible_tests_html"]

FAILURES_SHOWN = 3


@dataclass(frozen=True)
class VisibleRow:
    """One visible test (or policy), in words, with its pictures."""

    number: str
    name: str
    ok: bool
    score: float
    max_score: float
    lines: tuple[str, ...] = ()
    pictures: tuple[Picture, ...] = ()


def _rows(result: VisibleTests) -> list[VisibleRow]:
    rows = []
    for t in result.tests:
        shown = t.failures[:FAILURES_SHOWN]
        lines = tuple("\n".join(result.report.lines(f)) for f in shown)
        drawn = () if t.ok else pictures(failing_gradients(result.report, t.failures))
        rows.append(VisibleRow(t.test.number, t.test.name, t.ok, t.score, t.max_score, lines, drawn))
    for p in result.policies:
        lines = tuple(p.finding.evidence)
        rows.append(VisibleRow(p.policy.number, p.policy.name, not p.finding.violated, p.score, p.max_score, lines))
    return rows


def visible_tests_html(result: VisibleTests) -> str:
    """The HTML fragment Jupyter shows for a :class:`~gradcheck.grading.notebook.VisibleTests`."""
    got, top = result.points
    return render("visible.html", rubric_name=result.rubric.name, got=got, top=top, tests=_rows(result))
