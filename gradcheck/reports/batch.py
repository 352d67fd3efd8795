"""The class report of a graded batch, written beside ``grades.csv``: ``summary.json`` (the
data) and ``report.html`` (the page drawn from it)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .classreport import render_class_report
from .sources import class_summary

if TYPE_CHECKING:
    from ..grading.grade import Batch
    from ..grading.rubric import Rubric

__all__ = ["REPORT_HTML", "SUMMARY_JSON", "write_class_report"]

SUMMARY_JSON = "summary.json"
REPORT_HTML = "report.html"


def write_class_report(out: str | os.PathLike, batch: Batch, rubric: Rubric) -> None:
    """Write ``OUT/summary.json`` and ``OUT/report.html`` for every submission graded into ``out``."""
    from ..grading.outputs import atomic_write

    out = Path(out)
    summary = class_summary(out, batch, rubric)
    atomic_write(out / SUMMARY_JSON, json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    atomic_write(out / REPORT_HTML, render_class_report(summary))
