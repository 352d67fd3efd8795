"""Layouts: one tensor from the canonical layout to the implementation's, and its gradient back.

The checker works in one canonical layout: column vectors ``x [n_0, B]``, ``W [out, in]``,
``b [out, 1]``. The adapter's fields say how the implementation wants them instead:

- ``layout``: ``"column"`` (x ``[n_0, B]``) or ``"row"`` (x ``[B, n_0]``, y ``[B, n_L]``);
- ``weights``: ``"out_in"`` or ``"in_out"``;
- ``bias``: ``"column"`` ``[out, 1]``, ``"vector"`` ``[out]`` or ``"row"`` ``[1, out]``; or no
  bias of its own: ``"folded"`` / ``"folded-first"``, each W carries it as an extra input
  column, last or first (``[out, in + 1]``, transposed with ``weights="in_out"``), and its
  gradient's extra column is the bias gradient; ``"none"``, the network has no biases (z = W a),
  for a spec with ``biases=False`` (see :func:`gradcheck.adapters.extraction.unfold_biases`);
- ``targets``: ``"dense"`` (like the case's y) or ``"index"`` (class indices ``[B]``, int64, for
  softmax cross-entropy);
- ``numpy``: float64 numpy arrays in, arrays out (the case runs through the CPU).

Conversions are views where possible, so an implementation that modifies its inputs in place is
still caught by the ``input-mutation`` check (numpy arrays share memory with float64 CPU
tensors). On the way back, a gradient of the wrong shape gets the inverse change all the same,
so the checker still reports it, with shapes in the canonical layout.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .adapter import Adapter

__all__ = [
    "bias_back",
    "bias_in",
    "fold",
    "from_implementation",
    "layer_key",
    "targets_in",
    "to_implementation",
    "weight_back",
    "weight_in",
]


def layer_key(pattern: str, layer: int) -> str:
    """A per-layer name from a pattern: ``{n}`` is layer + 1 (``W1``), ``{l}`` the layer (``W0``)."""
    return pattern.format(n=layer + 1, l=layer)


# -- in: canonical -> the implementation's layout -------------------------------------------


def to_implementation(a: Adapter, t: Tensor) -> Any:
    """A tensor as the implementation gets it: a float64 numpy array (sharing memory where it can)."""
    if not a.numpy:
        return t
    t = t.detach().cpu()
    return (t if not t.is_floating_point() else t.double()).numpy()


def weight_in(a: Adapter, W: Tensor) -> Tensor:
    return W.T if a.weights == "in_out" else W


def bias_in(a: Adapter, b: Tensor) -> Tensor:
    return {"column": b, "vector": b.reshape(-1), "row": b.T}[a.bias]


def targets_in(a: Adapter, y: Tensor) -> Tensor:
    if a.targets == "index":
        return y.argmax(dim=0)
    return y.T if a.layout == "row" else y


def fold(a: Adapter, W: Tensor, b: Tensor) -> Tensor:
    """W with b as an extra input column (last, or first for ``"folded-first"``); else W."""
    if a.bias == "folded":
        return torch.cat([W, b], dim=1)
    return torch.cat([b, W], dim=1) if a.bias == "folded-first" else W


# -- back: the implementation's layout -> canonical -----------------------------------------


def from_implementation(like: Tensor, value: Any) -> Any:
    """A returned array as a tensor on the case's device, float arrays in the case's dtype."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy adapters need numpy
        return value
    if isinstance(value, np.ndarray):
        t = torch.from_numpy(value)
        return t.to(device=like.device, dtype=like.dtype) if t.is_floating_point() else t.to(like.device)
    if isinstance(value, np.generic) and not isinstance(value, float):
        return value.item() if value.dtype.kind == "f" else value
    return value


def weight_back(a: Adapter, g: Any, W: Tensor) -> Any:
    """The inverse of :func:`weight_in`, applied whatever the shape, so a gradient of the wrong
    shape in the implementation's layout is still the wrong shape in the canonical one."""
    g = from_implementation(W, g) if a.numpy else g
    if a.weights == "in_out" and isinstance(g, Tensor) and g.dim() >= 2:
        return g.transpose(-2, -1)
    return g


def bias_back(a: Adapter, g: Any, b: Tensor) -> Any:
    """The inverse of :func:`bias_in` (see :func:`weight_back`)."""
    g = from_implementation(b, g) if a.numpy else g
    if not isinstance(g, Tensor):
        return g
    if a.bias == "vector":
        return g.unsqueeze(-1)
    if a.bias == "row" and g.dim() >= 2:
        return g.transpose(-2, -1)
    return g
