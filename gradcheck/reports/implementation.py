"""One checked implementation as HTML: what ``gradcheck check --html FILE`` writes and what a
:class:`~gradcheck.report.Report` shows in Jupyter (its ``_repr_html_``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .page import render_page
from .sources import page_from_report

if TYPE_CHECKING:
    from ..report import Report

__all__ = ["report_html", "write_html"]


def report_html(report: Report, *, standalone: bool = True) -> str:
    """The report as HTML: a whole page, or (``standalone=False``) a fragment for a notebook."""
    return render_page(page_from_report(report), standalone=standalone)


def write_html(report: Report, path: str | os.PathLike) -> None:
    """Write the whole page to ``path`` (an ``OSError`` if it cannot be written)."""
    from ..grading.outputs import atomic_write

    atomic_write(path, report_html(report))
