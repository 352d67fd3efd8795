"""The class at a glance: ``summary.json`` and ``report.html`` beside ``grades.csv``.

Built from plain per-submission rows (:class:`SubmissionRow`; :mod:`.sources` reads them from
each ``results.json``), so the summary counts exactly what the graded files say. The summary is
the data (the browser test compares the page with it); the page draws it: a score histogram, the
pass rate of each rubric test, each diagnosis with the students who have it (links to their
``feedback.md``), the time each submission took, and the isolation the sandbox achieved. Charts
are inline SVG and CSS: the page needs no network, no script and no plotting library.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .templates import render

__all__ = ["HISTOGRAM_BINS", "SCHEMA", "Outcome", "SubmissionRow", "render_class_report", "summarise"]

SCHEMA = "gradcheck-class-summary/1"
HISTOGRAM_BINS = 10


@dataclass(frozen=True)
class Outcome:
    """One rubric test (or policy) in one submission."""

    name: str
    score: float
    max_score: float
    passed: bool


@dataclass(frozen=True)
class SubmissionRow:
    """What the class report needs of one graded submission."""

    name: str
    score: float
    max_score: float
    seconds: float
    tests: tuple[Outcome, ...] = ()
    diagnoses: tuple[str, ...] = ()  # distinct diagnosis ids of its root-cause failures
    feedback: str = ""  # the feedback file, relative to the report


def _histogram(scores: Sequence[float], top: float) -> list[dict[str, float]]:
    """``HISTOGRAM_BINS`` equal bins over [0, top]; the last bin holds ``top`` itself."""
    width = (top or 1.0) / HISTOGRAM_BINS
    counts = [0] * HISTOGRAM_BINS
    for s in scores:
        counts[min(max(int(s / width), 0), HISTOGRAM_BINS - 1)] += 1
    return [{"from": round(i * width, 4), "to": round((i + 1) * width, 4), "count": c} for i, c in enumerate(counts)]


def _tests(rows: Sequence[SubmissionRow]) -> list[dict[str, Any]]:
    order: list[str] = []
    seen: dict[str, list[Outcome]] = {}
    for row in rows:
        for t in row.tests:
            if t.name not in seen:
                order.append(t.name)
                seen[t.name] = []
            seen[t.name].append(t)
    summary = []
    for name in order:
        outcomes = seen[name]
        passed = sum(t.passed for t in outcomes)
        summary.append(
            {
                "name": name,
                "max_score": max(t.max_score for t in outcomes),
                "passed": passed,
                "total": len(outcomes),
                "pass_rate": round(passed / len(outcomes), 4),
            }
        )
    return summary


def _diagnoses(rows: Sequence[SubmissionRow]) -> list[dict[str, Any]]:
    """Each diagnosis id with the submissions that show it, most common first."""
    who: dict[str, list[SubmissionRow]] = {}
    for row in rows:
        for d in dict.fromkeys(row.diagnoses):
            who.setdefault(d, []).append(row)
    return [
        {"id": d, "count": len(having), "submissions": sorted(r.name for r in having)}
        for d, having in sorted(who.items(), key=lambda item: (-len(item[1]), item[0]))
    ]


def summarise(
    rows: Sequence[SubmissionRow],
    *,
    rubric: str,
    max_score: float,
    isolation: dict[str, Any] | None = None,
    isolation_lines: Sequence[str] = (),
    errors: dict[str, str] | None = None,
    version: str = "",
) -> dict[str, Any]:
    """The class summary (``summary.json``): plain JSON data, sorted by submission name."""
    if max_score < 0:
        raise ValueError(f"max_score={max_score} must not be negative")
    rows = sorted(rows, key=lambda r: r.name)
    scores = [r.score for r in rows]
    seconds = [r.seconds for r in rows]
    return {
        "schema": SCHEMA,
        "gradcheck_version": version,
        "rubric": rubric,
        "max_score": max_score,
        "submissions": len(rows),
        "scores": {
            "mean": round(statistics.fmean(scores), 4) if scores else None,
            "median": round(statistics.median(scores), 4) if scores else None,
            "min": min(scores, default=None),
            "max": max(scores, default=None),
            "full_marks": sum(s >= max_score for s in scores),
            "histogram": _histogram(scores, max_score),
        },
        "tests": _tests(rows),
        "diagnoses": _diagnoses(rows),
        "seconds": {
            "total": round(sum(seconds), 2),
            "mean": round(statistics.fmean(seconds), 2) if seconds else None,
            "max": max(seconds, default=None),
        },
        "isolation": isolation,
        "isolation_lines": list(isolation_lines),
        "errors": dict(sorted((errors or {}).items())),
        "rows": [
            {
                "submission": r.name,
                "score": r.score,
                "max_score": r.max_score,
                "seconds": r.seconds,
                "diagnoses": list(r.diagnoses),
                "feedback": r.feedback,
            }
            for r in rows
        ],
    }


@dataclass(frozen=True)
class _Bar:
    """One histogram bar, laid out for the SVG."""

    x: float
    height: float
    count: int
    label: str


@dataclass
class _Chart:
    bars: list[_Bar] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0
    axis: float = 0.0


_BAR, _GAP, _TALL = 44.0, 6.0, 140.0


def _chart(histogram: list[dict[str, float]]) -> _Chart:
    """The score histogram's bars in SVG coordinates (pure layout, no drawing library)."""
    top = max((b["count"] for b in histogram), default=0) or 1
    chart = _Chart(width=len(histogram) * (_BAR + _GAP) + _GAP, height=_TALL + 56, axis=_TALL + 18)
    for i, b in enumerate(histogram):
        chart.bars.append(
            _Bar(
                x=_GAP + i * (_BAR + _GAP),
                height=_TALL * b["count"] / top,
                count=int(b["count"]),
                label=f"{b['from']:g}–{b['to']:g}",
            )
        )
    return chart


def render_class_report(summary: dict[str, Any]) -> str:
    """``report.html`` from :func:`summarise`'s data."""
    if summary.get("schema") != SCHEMA:
        raise ValueError(f"summary schema {summary.get('schema')!r} is not {SCHEMA!r}")
    slowest = max((r["seconds"] for r in summary["rows"]), default=0.0) or 1.0
    return render("class.html", s=summary, chart=_chart(summary["scores"]["histogram"]), slowest=slowest)
