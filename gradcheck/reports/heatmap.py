"""A returned gradient against the true one, entry by entry, as a picture.

The field plotted is the signed relative error ``(returned − true) / true``: 0 where the entry is
right, so each bug class has its own look on a diverging scale centred at 0. A sign flip is a
uniform −2, a factor of two a uniform +1, one wrong entry one hot cell, a transpose a mirror
image, a missing σ′ a smooth slope. Where the true entry is (nearly) zero the error is taken
relative to a floor instead, so a wrong value there still shows.

:func:`error_field` is the data (tested as data: values, worst entry); :func:`heatmap_png`
draws it with matplotlib, an optional extra (``pip install gradcheck-harness[plots]``), and
returns ``None`` when matplotlib is missing, so every page still renders without it.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ..compare import entry_index

__all__ = ["PLOTS_MISSING", "SCALE_CAP", "ErrorField", "error_field", "heatmap_png", "plots_available"]

PLOTS_MISSING = "this picture needs matplotlib: pip install gradcheck-harness[plots]"
FLOOR = 1e-6  # a true entry below FLOOR × the tensor's largest is "zero": its error is relative to that floor
# Errors beyond ±SCALE_CAP (ten times the true value) are drawn in the scale's end colours, so one
# entry whose truth is nearly zero (a relative error of 10³) does not wash out the pattern of the rest.
SCALE_CAP = 10.0
COLOURS = "RdBu_r"  # diverging: blue below the truth, white right, red above
WORST_MARK = ("#ffffff", "#111111")  # a white box inside a black one: visible on red, blue and white


@dataclass(frozen=True)
class ErrorField:
    """The per-entry signed relative error of one gradient, as a 2-D grid, and its worst entry."""

    values: Tensor  # 2-D float64: rows × columns of the picture
    worst: tuple[int, ...]  # the worst entry's index in the gradient's own shape
    worst_cell: tuple[int, int]  # the same entry in ``values``
    limit: float  # the colour scale runs from −limit to +limit
    clipped: bool = False  # some entries lie beyond ±limit (drawn in the end colours)

    @property
    def worst_value(self) -> float:
        return float(self.values[self.worst_cell])


def _grid(t: Tensor) -> Tensor:
    """A 2-D view: a matrix as it is, a vector as a column, a scalar as one cell."""
    if t.dim() == 2:
        return t
    if t.dim() <= 1:
        return t.reshape(-1, 1)
    return t.reshape(t.shape[0], -1)


def error_field(returned: Tensor, true: Tensor, *, worst: tuple[int, ...] | None = None) -> ErrorField:
    """The signed relative error of ``returned`` against ``true`` (same shape), and its worst entry.

    ``worst`` names the entry to mark (the checker's own worst index, so picture and text agree);
    by default it is the entry with the largest absolute error.
    """
    if not isinstance(returned, Tensor) or not isinstance(true, Tensor):
        raise TypeError(f"returned and true must be tensors, got {type(returned).__name__}, {type(true).__name__}")
    if returned.shape != true.shape:
        raise ValueError(
            f"returned has shape {list(returned.shape)}, true has shape {list(true.shape)}: not comparable"
        )
    if returned.numel() == 0:
        raise ValueError("returned is empty: there is nothing to draw")
    got, expected = returned.detach().double().cpu(), true.detach().double().cpu()
    scale = float(expected.abs().max()) or 1.0
    denominator = torch.where(expected.abs() >= FLOOR * scale, expected, torch.full_like(expected, FLOOR * scale))
    relative = ((got - expected) / denominator).nan_to_num(nan=math.inf)
    if worst is None:
        flat = int((got - expected).abs().nan_to_num(nan=math.inf).reshape(-1).argmax())
        worst = entry_index(flat, expected.shape)
    if len(worst) != expected.dim() or any(not 0 <= i < n for i, n in zip(worst, expected.shape)):
        raise ValueError(f"worst={worst} is not an index of a tensor of shape {list(expected.shape)}")
    flat = 0
    for i, n in zip(worst, expected.shape):  # row-major, as ``_grid`` lays the entries out
        flat = flat * n + i
    values = _grid(relative)
    worst_cell = (flat // values.shape[1], flat % values.shape[1])
    finite = values[torch.isfinite(values)]
    largest = float(finite.abs().max()) if finite.numel() else math.inf
    limit = min(largest, SCALE_CAP) if largest > 0 else 1.0
    return ErrorField(values, worst, worst_cell, limit, clipped=largest > limit)


def plots_available() -> bool:
    """Whether matplotlib (the ``plots`` extra) can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def heatmap_png(returned: Tensor, true: Tensor, *, title: str, worst: tuple[int, ...] | None = None) -> bytes | None:
    """A PNG of :func:`error_field`, worst entry boxed, with a labelled colour bar; ``None``
    without matplotlib. Drawn with the Agg backend: no display is ever opened."""
    if not title or not isinstance(title, str):
        raise ValueError(f"title={title!r} must be a non-empty string")
    field = error_field(returned, true, worst=worst)
    if not plots_available():
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    rows, columns = field.values.shape
    figure = Figure(figsize=(min(2.2 + 0.45 * columns, 9.0), min(1.6 + 0.35 * rows, 7.0)), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    values = field.values.clamp(-field.limit, field.limit).nan_to_num(posinf=field.limit, neginf=-field.limit)
    image = axes.imshow(
        values.numpy(), cmap=COLOURS, norm=Normalize(-field.limit, field.limit), aspect="auto", interpolation="nearest"
    )
    row, column = field.worst_cell
    for colour, width in zip(WORST_MARK, (4.0, 1.5)):
        axes.add_patch(Rectangle((column - 0.5, row - 0.5), 1, 1, fill=False, edgecolor=colour, linewidth=width))
    axes.set_title(f"{title}\nworst entry {field.worst}: {field.worst_value:+.3g}", fontsize=9)
    axes.set_xlabel("column", fontsize=8)
    axes.set_ylabel("row", fontsize=8)
    axes.tick_params(labelsize=7)
    if columns <= 12:
        axes.set_xticks(range(columns))
    if rows <= 12:
        axes.set_yticks(range(rows))
    bar = figure.colorbar(image, ax=axes, extend="both" if field.clipped else "neither")
    bar.set_label("(returned − true) / true", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
