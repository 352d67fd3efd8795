"""One implementation's verdict as an HTML page (``gradcheck check --html``) or a Jupyter fragment.

The page is built from small, explicit records (:class:`Page`, :class:`Problem`,
:class:`Picture`), not from the checker's objects: :mod:`.sources` fills them from a report.
Everything is inline (CSS, PNGs as ``data:`` URIs), so the file opens anywhere, offline.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from .heatmap import PLOTS_MISSING
from .templates import render

__all__ = ["LayerRow", "Page", "Picture", "Problem", "data_uri", "render_page"]


def data_uri(png: bytes) -> str:
    """A PNG as a ``data:`` URI, for an ``<img>`` that needs no file beside the page."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@dataclass(frozen=True)
class Picture:
    """A heatmap of one failing gradient; ``png`` is ``None`` where matplotlib is missing."""

    layer: int
    param: str
    label: str  # e.g. "W[0], widths 3-1, batch 1"
    png: bytes | None
    worst: tuple[int, ...]

    @property
    def src(self) -> str | None:
        return data_uri(self.png) if self.png is not None else None

    @property
    def missing(self) -> str:
        return PLOTS_MISSING


@dataclass(frozen=True)
class Problem:
    """One folded failure, already in words."""

    title: str  # "gradient-values, layer 0 W"
    message: str
    diagnosis: str | None = None
    confidence: float | None = None
    hint: str | None = None
    case: str | None = None  # the smallest failing network, in words
    reproduce: str | None = None
    explained_by: str | None = None  # set when it is not a bug of its own ("a consequence of W[1]")


@dataclass(frozen=True)
class LayerRow:
    """A line of the per-layer table: marks are "ok", "FAIL" or "-" per check."""

    layer: int
    param: str
    marks: tuple[str, ...]
    max_abs_error: float | None


@dataclass(frozen=True)
class Page:
    """Everything the page shows."""

    target: str
    passed: bool
    headline: str  # "12 calls, 1 problem(s), 0.4 s"
    checks: tuple[str, ...] = ()  # the per-layer table's column names
    rows: tuple[LayerRow, ...] = ()
    problems: tuple[Problem, ...] = ()
    pictures: tuple[Picture, ...] = ()
    warnings: tuple[str, ...] = ()
    inconclusive: tuple[str, ...] = ()

    @property
    def roots(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.explained_by is None)

    @property
    def echoes(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.explained_by is not None)


def render_page(page: Page, *, standalone: bool = True) -> str:
    """The page as HTML: a whole document, or (``standalone=False``) a fragment for Jupyter."""
    if not isinstance(page, Page):
        raise TypeError(f"page must be a Page, got {type(page).__name__}")
    return render("page.html", page=page, standalone=standalone)
