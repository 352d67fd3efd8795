"""Binding: every argument an implementation might take, built from one case in its layout.

The adapter's ``args`` picks the positional arguments from these names:

- ``x`` and ``y``: the inputs and targets (see :mod:`.layout`);
- ``W`` and ``b``: lists of per-layer tensors (with a folded bias or none, ``b`` is empty);
- ``params``: a dict keyed by ``keys`` (default ``W{n}``, ``b{n}``; ``{n}`` is layer + 1, ``{l}``
  the layer), CS231n's and deeplearning.ai's ``parameters``;
- ``theta``: every layer's W then b, flattened in this order and concatenated (Coursera's
  ``nnCostFunction``).

``W``, ``b`` and ``params`` hold the same tensors, so whichever way the implementation reaches a
parameter, it is the case's own (a training step gets copies: it updates them).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from .adapter import Adapter
from .layout import bias_in, fold, layer_key, targets_in, to_implementation, weight_in

__all__ = ["bind"]


def bind(a: Adapter, x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]) -> dict[str, Any]:
    """Every argument the implementation might take, by name, in its layout. A training step
    (``grads_from="step"``) gets copies: it updates them, and the case's own tensors stay as they were."""
    copy = (lambda t: t.clone()) if a.grads_from == "step" else (lambda t: t)
    Ws = [to_implementation(a, copy(weight_in(a, fold(a, w, v)))) for w, v in zip(W, b, strict=False)]
    bs = [] if a.bias_free else [to_implementation(a, copy(bias_in(a, v))) for v in b]
    params = {}
    for layer, w in enumerate(Ws):
        params[layer_key(a.keys[0], layer)] = w
        if bs:
            params[layer_key(a.keys[1], layer)] = bs[layer]
    return {
        "x": to_implementation(a, x.T if a.layout == "row" else x),
        "y": to_implementation(a, targets_in(a, y)),
        "W": Ws,
        "b": bs,
        "params": params,
        "theta": _flat(a, Ws, bs),
    }


def _flat(a: Adapter, Ws: list[Any], bs: list[Any]) -> Any:
    """Each layer's W then b, flattened and concatenated (an array with ``numpy``); None for no layers."""
    pieces = [t.reshape(-1) for pair in itertools.zip_longest(Ws, bs) for t in pair if t is not None]
    if not pieces:
        return None
    if a.numpy:
        import numpy as np

        return np.concatenate(pieces)
    return torch.cat(pieces)
