"""Binding: every argument an implementation might take, built from one case in its layout.

The adapter's ``args`` picks the positional arguments from these names:

- ``x`` and ``y``: the inputs and targets (see :mod:`.layout`);
- ``W`` and ``b``: lists of per-layer tensors (with a folded bias or none, ``b`` is empty);
- ``params``: a dict keyed by ``keys`` (default ``W{n}``, ``b{n}``; ``{n}`` is layer + 1, ``{l}``
  the layer), CS231n's and deeplearning.ai's ``parameters``;
- ``theta``: every layer's W then b, flattened in this order and concatenated (Coursera's
  ``nnCostFunction``);
- constants of the case: ``sizes`` (the widths ``[n_0, ..., n_L]`` as a list of ints), ``n0``,
  ``n1``, ... (one width: ``n0`` the input's, ``n1`` the first layer's output), ``nL`` (the
  output width), ``depth`` (L), ``batch`` (B) and ``reg`` (the spec's L2 coefficient), e.g. the
  real ex4 ``nnCostFunction(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y,
  lambda_)`` as ``args=["theta", "n0", "n1", "nL", "x", "y", "reg"]``;
- anything else in ``args`` is a JSON literal passed as it is (``"1"``, ``"false"``).

``kwargs`` adds keyword arguments, ``"name=VALUE"`` with VALUE one of the names above or a
literal: nn-from-scratch's ``build_model(X, y, nn_hdim, num_passes=20000)`` runs one pass with
``args=["x", "y", "n1"], kwargs=["num_passes=1"]``.

``W``, ``b`` and ``params`` hold the same tensors, so whichever way the implementation reaches a
parameter, it is the case's own (a training step gets copies: it updates them).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from ..invoke import NotApplicable
from .adapter import WIDTH, Adapter, literal
from .layout import bias_in, fold, layer_key, targets_in, to_implementation, weight_in

__all__ = ["argument", "bind", "keywords"]


def bind(a: Adapter, x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor], l2: float = 0.0) -> dict[str, Any]:
    """Every argument the implementation might take, by name, in its layout. A training step
    (``grads_from="step"``) and a script (which may update its parameters in place) get copies,
    and the case's own tensors stay as they were."""
    copy = (lambda t: t.clone()) if a.grads_from == "step" or a.script else (lambda t: t)
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
        "sizes": [int(x.shape[0]), *(int(w.shape[0]) for w in W)],
        "nL": int(W[-1].shape[0]) if W else int(x.shape[0]),
        "depth": len(W),
        "batch": int(x.shape[1]) if x.dim() > 1 else 1,
        "reg": float(l2),
    }


def argument(bound: dict[str, Any], name: str) -> Any:
    """One argument by its binding name (``n1``: a width), or the literal it spells."""
    if name in bound:
        return bound[name]
    width = WIDTH.fullmatch(name)
    if width:
        sizes = bound["sizes"]
        if int(width[1]) >= len(sizes):
            raise NotApplicable(f"adapter argument {name!r}: this case has only the widths n0..n{len(sizes) - 1}")
        return sizes[int(width[1])]
    return literal(name)


def keywords(a: Adapter, bound: dict[str, Any]) -> dict[str, Any]:
    """The ``kwargs`` entries, ``"name=VALUE"``, as keyword arguments."""
    return {key: argument(bound, value) for key, value in (kw.split("=", 1) for kw in a.kwargs)}


def _flat(a: Adapter, Ws: list[Any], bs: list[Any]) -> Any:
    """Each layer's W then b, flattened and concatenated (an array with ``numpy``); None for no layers."""
    pieces = [t.reshape(-1) for pair in itertools.zip_longest(Ws, bs) for t in pair if t is not None]
    if not pieces:
        return None
    if a.numpy:
        import numpy as np

        return np.concatenate(pieces)
    return torch.cat(pieces)
