"""Where the pictures' and pages' inputs come from: the only module here that reads the checker's
and the grader's objects.

Each function is a thin adapter from today's objects (:class:`gradcheck.report.Report`, its
folded failures, each :class:`~gradcheck.checker.CaseResult`'s ``returned`` tensors and its
truth's autograd gradients, a submission's ``results.json``) to the plain records the renderers
take, so a change in those objects is a change here only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from torch import Tensor

from ..checker import CaseResult
from ..grading.escape import safe_name
from ..records import Failure, describe_failure, explained_elsewhere
from ..report import Report, layer_rows
from .classreport import Outcome, SubmissionRow
from .heatmap import error_field, heatmap_png
from .page import LayerRow, Page, Picture, Problem

__all__ = [
    "GradientPair",
    "diagnosis_ids",
    "failing_gradients",
    "page_from_report",
    "pictures",
    "submission_row",
]


@dataclass(frozen=True)
class GradientPair:
    """A failing gradient: what came back and the truth, in the failure's own (smallest) case."""

    layer: int
    param: str
    returned: Tensor
    true: Tensor
    worst: tuple[int, ...] | None
    label: str

    @property
    def title(self) -> str:
        return f"{self.param}[{self.layer}]: returned vs true"


def _case_words(f: Failure) -> str | None:
    c = f.case
    if c is None:
        return None
    return f"widths {'-'.join(map(str, c.widths))}, batch {c.batch}, {c.dtype}, {c.regime} values"


def _result_of(report: Report, f: Failure) -> CaseResult | None:
    """The call that produced ``f``: the one holding that very record, else one of its case."""
    for r in report.run.results:
        if any(g is f for g in r.failures):
            return r
    return next((r for r in report.run.results if r.case == f.case), None)


def _pair(report: Report, f: Failure) -> GradientPair | None:
    if f.layer is None or f.param not in ("W", "b") or f.check != "gradient-values":
        return None
    result = _result_of(report, f)
    if result is None or result.truth is None or (f.layer, f.param) not in result.returned:
        return None
    returned, true = result.returned[(f.layer, f.param)], result.truth.autograd.param(f.layer, f.param)
    if returned.shape != true.shape:
        return None
    label = f"{f.param}[{f.layer}]" + (f", {_case_words(f)}" if f.case else "")
    worst = tuple(f.mismatch.worst_index) if f.mismatch else None
    return GradientPair(f.layer, f.param, returned, true, worst, label)


def failing_gradients(report: Report, failures: Iterable[Failure] | None = None) -> list[GradientPair]:
    """One pair per failing (layer, parameter) among ``failures`` (default: the report's folded
    ones), from the output layer down."""
    pairs: dict[tuple[int, str], GradientPair] = {}
    for f in report.failures if failures is None else failures:
        pair = _pair(report, f)
        if pair is not None and (pair.layer, pair.param) not in pairs:
            pairs[(pair.layer, pair.param)] = pair
    return sorted(pairs.values(), key=lambda p: (-p.layer, p.param))


def pictures(pairs: Sequence[GradientPair]) -> tuple[Picture, ...]:
    """A heatmap per pair (PNG, or ``None`` without matplotlib)."""
    drawn = []
    for p in pairs:
        png = heatmap_png(p.returned, p.true, title=p.title, worst=p.worst)
        worst = error_field(p.returned, p.true, worst=p.worst).worst  # the one marked, also without matplotlib
        drawn.append(Picture(p.layer, p.param, p.label, png, worst))
    return tuple(drawn)


def _where(f: Failure) -> str:
    if f.layer is None:
        return f" {f.param}" if f.param else ""
    return f", layer {f.layer}" + (f" {f.param}" if f.param else "")


def _problem(report: Report, f: Failure) -> Problem:
    found = report.diagnosis_of(f)
    return Problem(
        title=f"{f.check}{_where(f)}",
        message=describe_failure(f),
        diagnosis=found.id if found else None,
        confidence=found.confidence if found else None,
        hint=found.hint if found else None,
        case=_case_words(f),
        reproduce=report.reproduce(f) if f.case else None,
        explained_by=explained_elsewhere(found),
    )


def page_from_report(report: Report) -> Page:
    """The page of one checked implementation: verdict, table, diagnosis, heatmaps."""
    table = layer_rows(report)
    checks = tuple(table[0].marks) if table else ()
    rows = tuple(LayerRow(r.layer, r.param, tuple(r.marks[c] for c in checks), r.max_abs_error) for r in table)
    roots = sum(explained_elsewhere(report.diagnosis_of(f)) is None for f in report.failures)
    headline = (
        f"{len(report.run.results)} calls, {roots} problem(s)"
        + (f" ({len(report.failures)} failures)" if len(report.failures) != roots else "")
        + f", {report.run.elapsed_s:.1f} s"
    )
    return Page(
        target=report.target,
        passed=report.passed,
        headline=headline,
        checks=tuple(c.removeprefix("gradient-") for c in checks),
        rows=rows,
        problems=tuple(_problem(report, f) for f in report.failures),
        pictures=pictures(failing_gradients(report)),
        warnings=tuple(report.warnings),
        inconclusive=tuple(report.inconclusive),
    )


def diagnosis_ids(report: Report | None) -> list[str]:
    """The distinct diagnosis ids of a report's root-cause failures, in report order."""
    if report is None:
        return []
    found = (report.diagnosis_of(f) for f in report.failures)
    return list(dict.fromkeys(d.id for d in found if d is not None and not d.consequence_of))


def submission_row(name: str, results: dict[str, Any]) -> SubmissionRow:
    """A class-report row from one submission's ``results.json`` (as gradcheck writes it)."""
    record = results.get("extra_data", {}).get("gradcheck", {})
    tests = tuple(
        Outcome(
            str(t.get("name", "")),
            float(t.get("score") or 0.0),
            float(t.get("max_score") or 0.0),
            t.get("status") == "passed",
        )
        for t in results.get("tests", [])
        if isinstance(t, dict)
    )
    return SubmissionRow(
        name=safe_name(name),  # one printable line, whatever bytes the file name holds
        score=float(results.get("score") or 0.0),
        max_score=float(record.get("max_score") or 0.0),
        seconds=float(results.get("execution_time") or 0.0),
        tests=tests,
        diagnoses=tuple(str(d) for d in record.get("diagnoses", []) if isinstance(d, str)),
        feedback=quote(os.fsencode(name)) + "/feedback.md",  # the folder's own bytes, percent-encoded
    )
