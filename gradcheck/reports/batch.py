"""The class report of a graded batch, written beside ``grades.csv``: ``summary.json`` (the
data) and ``report.html`` (the page drawn from it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .classreport import render_class_report, summarise
from .sources import submission_row

if TYPE_CHECKING:
    from ..grading.grade import Batch
    from ..grading.rubric import Rubric

__all__ = ["REPORT_HTML", "SUMMARY_JSON", "class_summary", "write_class_report"]

SUMMARY_JSON = "summary.json"
REPORT_HTML = "report.html"


def write_class_report(out: str | os.PathLike, batch: Batch, rubric: Rubric) -> None:
    """Write ``OUT/summary.json`` and ``OUT/report.html`` for every submission graded into ``out``."""
    from ..grading.outputs import atomic_write

    out = Path(out)
    summary = class_summary(out, batch, rubric)
    atomic_write(out / SUMMARY_JSON, json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    atomic_write(out / REPORT_HTML, render_class_report(summary))


def class_summary(out: Path, batch: Batch, rubric: Rubric) -> dict[str, Any]:
    """The class summary of a graded batch, from the ``results.json`` of every submission in it."""
    from .. import __version__
    from ..grading.outputs import read_results

    rows = []
    for name in batch.rows:
        results = read_results(out / name / "results.json")
        if results is not None:
            rows.append(submission_row(name, results))
    isolation = batch.isolation
    return summarise(
        rows,
        rubric=rubric.name,
        max_score=rubric.max_score,
        isolation=isolation.as_dict() if isolation else None,
        isolation_lines=isolation.describe() if isolation else (),
        errors=batch.errors,
        version=__version__,
    )
