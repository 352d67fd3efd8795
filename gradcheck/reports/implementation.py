"""One checked implementation as HTML: what ``gradcheck check --html FILE`` writes and what
Jupyter shows for ``gradcheck.reports.view(report)`` (a :class:`ReportView`).

The view lives here, in the reports face, rather than as ``Report._repr_html_``: the report is
core data, and the core imports no face (tests/test_architecture.py)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..files import write_atomically
from .page import render_page
from .sources import page_from_report

if TYPE_CHECKING:
    from ..report import Report

__all__ = ["ReportView", "report_html", "view", "write_html"]


def report_html(report: Report, *, standalone: bool = True) -> str:
    """The report as HTML: a whole page, or (``standalone=False``) a fragment for a notebook."""
    return render_page(page_from_report(report), standalone=standalone)


def write_html(report: Report, path: str | os.PathLike) -> None:
    """Write the whole page to ``path`` (an ``OSError`` if it cannot be written)."""
    write_atomically(path, report_html(report))


class ReportView:
    """A report as Jupyter shows it: its page (verdict, per-layer table, diagnosis, heatmaps)."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def _repr_html_(self) -> str:
        return report_html(self.report, standalone=False)


def view(report: Report) -> ReportView:
    """What a notebook cell shows: ``gradcheck.reports.view(gradcheck.check(forward_backward))``."""
    return ReportView(report)
