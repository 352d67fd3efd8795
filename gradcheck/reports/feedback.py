"""Heatmaps beside a student's ``feedback.md``: one PNG per failing gradient of each visible test.

The file names depend only on the (layer, parameter), so a gradient that fails several tests is
drawn once and every test links the same file; ``feedback.md`` links them relatively, so the
folder can be moved or zipped whole. Tests whose visibility is ``hidden`` get no picture (a
picture would show what the test checks).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..files import write_atomically
from .heatmap import PLOTS_MISSING, heatmap_png, plots_available
from .sources import GradientPair, failing_gradients

if TYPE_CHECKING:
    from ..report import Report

__all__ = ["HIDDEN", "feedback_pictures", "picture_lines", "picture_name", "write_pictures"]

HIDDEN = "hidden"  # the rubric visibility whose tests feedback leaves out


def picture_name(pair: GradientPair) -> str:
    """``heatmap-W0.png``: the file of one gradient's picture, beside ``feedback.md``."""
    return f"heatmap-{pair.param}{pair.layer}.png"


def _pairs(test: Any, report: Report | None) -> list[GradientPair]:
    """The failing gradients of one rubric test's outcome (a :class:`~gradcheck.grading.score.TestScore`)."""
    if report is None or test.ok or test.test.visibility == HIDDEN:
        return []
    return failing_gradients(report, test.failures)


def picture_lines(test: Any, report: Report | None) -> list[str]:
    """Markdown for one test's pictures (empty when it has none)."""
    pairs = _pairs(test, report)
    if not pairs:
        return []
    if not plots_available():
        return [f"_({len(pairs)} heatmap(s) not drawn: {PLOTS_MISSING})_", ""]
    lines = []
    for pair in pairs:
        lines += [f"![{pair.param}[{pair.layer}]: returned against true gradient]({picture_name(pair)})", ""]
    return lines


def feedback_pictures(tests: Iterable[Any], report: Report | None) -> dict[str, bytes]:
    """Every picture the feedback of ``tests`` links, by file name (none without matplotlib)."""
    drawn: dict[str, bytes] = {}
    for test in tests:
        for pair in _pairs(test, report):
            name = picture_name(pair)
            if name not in drawn:
                png = heatmap_png(pair.returned, pair.true, title=pair.title, worst=pair.worst)
                if png is not None:
                    drawn[name] = png
    return drawn


def write_pictures(folder: str | os.PathLike, drawn: dict[str, bytes]) -> None:
    """Write the pictures into ``folder`` (each file whole or not at all)."""
    for name, png in drawn.items():
        write_atomically(Path(folder) / name, png)
