"""What a person looks at: heatmaps, the one-implementation page, the class report.

A face of gradcheck: it reads the core's results (through :mod:`.sources` only) and the core
never imports it. Pictures need the optional ``plots`` extra (matplotlib); without it every
page still renders and says how to get them.

- :mod:`.heatmap`: a returned gradient against the true one, entry by entry (data and PNG).
- :mod:`.page`: one implementation as HTML; :mod:`.implementation` builds it from a report
  (``gradcheck check --html``, :func:`view` in Jupyter).
- :mod:`.classreport`: ``summary.json`` and ``report.html`` of a graded batch.
- :mod:`.feedback`: the heatmaps beside each student's ``feedback.md``.
"""

from .classreport import Outcome, SubmissionRow, render_class_report, summarise
from .heatmap import PLOTS_MISSING, ErrorField, error_field, heatmap_png, plots_available
from .implementation import ReportView, report_html, view, write_html
from .page import Page, Picture, Problem, render_page

__all__ = [
    "PLOTS_MISSING",
    "ErrorField",
    "Outcome",
    "Page",
    "Picture",
    "Problem",
    "ReportView",
    "SubmissionRow",
    "error_field",
    "heatmap_png",
    "plots_available",
    "render_class_report",
    "render_page",
    "report_html",
    "summarise",
    "view",
    "write_html",
]
