"""Extraction: the implementation's gradients read back, in the canonical layout.

Where the gradients come from, ``grads_from``:

- ``"return"``: ``returns`` is the order of the returned tuple, from ``loss``, ``W``, ``b``,
  ``grads`` (a dict keyed by ``grad_keys``, default ``keys``) and ``theta`` (one flat vector, laid
  out as :mod:`.binding` lays out its ``theta``). Without ``loss`` the spec's loss stands in, so
  the ``loss-value`` check proves nothing then.
- ``"attributes"``: read from the object after the call, at the attribute names ``grad_keys``
  (e.g. ``("dW{n}", "db{n}")`` for ``net.dW1``); needs ``instance``.
- ``"globals"``: read from the implementation's namespace after the call, under ``grad_keys``
  (see :mod:`.calling`).
- ``"step"``: the implementation is a training step that updates the parameters by one plain SGD
  step θ ← θ − sign·lr·g and may return nothing; it gets copies (the case is untouched) and
  ``g = sign·(θ_before − θ_after)/lr`` is read from the updated copies (arguments updated in
  place, or the object's ``attributes`` after the call, reassigned or not). ``lr`` and ``sign``
  (+1 descent, −1 ascent) must be the step's own.

Every path that loses precision states its own error here, in one place, as data:
:func:`noise_floor` (per entry; today only the step's cancellation, ε·(|θ| + |θ′|)/lr in the
dtype of the step's own arrays: float64 for numpy code). The checker adds it to the allowance
(:class:`gradcheck.compare.WithNoise`), so round-off of the extraction is not blamed on the code.

With ``"attributes"``, ``"globals"`` or ``"step"``, ``returns=("loss",)`` reads the returned loss;
otherwise the spec's loss stands in. With a folded bias or none (:mod:`.layout`), ``returns`` may
name ``W`` without ``b``. A returned value the adapter cannot read (``None``, a wrong type) is
passed through unchanged, so the checker reports it as it would for canonical code.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from ..spec import Spec
from .adapter import Adapter
from .layout import bias_back, bias_in, fold, from_implementation, layer_key, weight_back, weight_in

__all__ = [
    "MISSING",
    "named_gradients",
    "noise_floor",
    "returned_gradients",
    "stepped_gradients",
    "to_canonical",
    "unfold_biases",
]

MISSING = object()  # stands for the loss of an implementation that returns none

Extracted = tuple[Any, list[Any], list[Any]]  # (loss or MISSING, W gradients, b gradients)


def returned_gradients(a: Adapter, value: Any, W: Sequence[Tensor], b: Sequence[Tensor]) -> Extracted | None:
    """``(loss or MISSING, W_grads, b_grads)`` from what the call returned, in the canonical
    layout; ``None`` if the value cannot be read as ``returns`` says."""
    if len(a.returns) == 1:
        value = (value,)
    if not isinstance(value, (tuple, list)) or len(value) != len(a.returns):
        return None
    got = dict(zip(a.returns, value, strict=False))
    if "grads" in got:
        grads = got["grads"]
        if not isinstance(grads, dict):
            return None
        W_grads, b_grads = named_gradients(a, grads.get, len(W))
    elif "theta" in got:
        split = _unflatten(a, got["theta"], W, b)
        if split is None:
            return None
        W_grads, b_grads = split
    else:
        W_grads, b_grads = got["W"], got.get("b", [])
        if not isinstance(W_grads, (list, tuple)) or not isinstance(b_grads, (list, tuple)):
            return (got.get("loss", MISSING), W_grads, b_grads)
    return to_canonical(a, got.get("loss", MISSING), W_grads, b_grads, W, b)


def named_gradients(a: Adapter, get: Callable[[str], Any], depth: int) -> tuple[list[Any], list[Any]]:
    """Gradients looked up by name (``grad_keys``, default ``keys``): in a dict, or attributes."""
    keys = a.grad_keys or a.keys
    W_grads = [get(layer_key(keys[0], layer)) for layer in range(depth)]
    b_grads = [] if a.bias_free else [get(layer_key(keys[1], layer)) for layer in range(depth)]
    return W_grads, b_grads


def to_canonical(
    a: Adapter, loss: Any, W_grads: Sequence[Any], b_grads: Sequence[Any], W: Sequence[Tensor], b: Sequence[Tensor]
) -> Extracted:
    """Gradients in the implementation's layout -> the canonical one (extra items kept, so the
    checker can count them)."""
    W_out = [weight_back(a, g, w) for g, w in zip(W_grads, W, strict=False)] + list(W_grads[len(W) :])
    b_out = [bias_back(a, g, v) for g, v in zip(b_grads, b, strict=False)] + list(b_grads[len(b) :])
    return (from_implementation(W[0], loss) if a.numpy else loss), W_out, b_out


def stepped_gradients(
    a: Adapter, found: dict[str, Any] | None, bound: dict[str, Any], before: dict[str, Any], depth: int
) -> tuple[list[Any], list[Any]] | None:
    """Gradients from one plain SGD step, ``θ ← θ − sign·lr·g``: ``g = sign·(θ_before − θ_after)/lr``,
    in the implementation's layout. The parameters after the step are the names read back after
    the call (``found``: the object's attributes, or the namespace's globals) or the bound
    arguments, updated in place; ``before`` is a second binding of the same case."""
    after = _parameters_after(a, found, bound, depth)
    if after is None:
        return None
    new_W, new_b = after

    def gradient(old: Any, new: Any) -> Any:
        try:
            return (old - new) * (a.sign / a.lr)
        except Exception:  # noqa: BLE001 - not an array: the type checks will say so
            return new

    return [gradient(o, n) for o, n in zip(before["W"], new_W, strict=False)], [
        gradient(o, n) for o, n in zip(before["b"], new_b, strict=False)
    ]


def noise_floor(
    a: Adapter, found: dict[str, Any] | None, bound: dict[str, Any], before: dict[str, Any] | None, depth: int
) -> tuple[list[Any], list[Any]] | None:
    """The per-entry error the extraction path itself adds, in the implementation's layout (None:
    none, or unreadable). A training step stores θ′ = θ − sign·lr·g rounded to its arrays' dtype,
    an error of ε·|θ′|, which the division by lr magnifies: g is read back to within
    ε·(|θ| + |θ′|)/lr (θ′ near θ when lr·g is small, so the subtraction cancels)."""
    if a.grads_from != "step" or before is None:
        return None
    after = _parameters_after(a, found, bound, depth)
    if after is None:
        return None

    def floor(old: Any, new: Any) -> Any:
        try:
            return (abs(old) + abs(new)) * (_epsilon(new) / a.lr)
        except Exception:  # noqa: BLE001 - not an array: nothing to allow for
            return None

    return [floor(o, n) for o, n in zip(before["W"], after[0], strict=False)], [
        floor(o, n) for o, n in zip(before["b"], after[1], strict=False)
    ]


def _epsilon(value: Any) -> float:
    """ε of an array's or a tensor's own floating dtype (a TypeError for anything else)."""
    if isinstance(value, Tensor):
        return torch.finfo(value.dtype).eps
    import numpy as np

    return float(np.finfo(value.dtype).eps)


def _parameters_after(
    a: Adapter, found: dict[str, Any] | None, bound: dict[str, Any], depth: int
) -> tuple[Sequence[Any], Sequence[Any]] | None:
    """The parameters after a training step, in the implementation's layout; None if unreadable."""
    by_keys = dataclasses.replace(a, grad_keys=None)  # the parameters' own names, not the gradients'
    new_W: Any
    new_b: Any
    if a.params_from == "globals":
        if not isinstance(found, dict):
            return None
        new_W, new_b = named_gradients(by_keys, found.get, depth)
    elif a.instance:
        after = [found.get(name) for name in a.attributes] if isinstance(found, dict) else [None]
        if len(after) == 1:
            if not isinstance(after[0], dict):
                return None
            new_W, new_b = named_gradients(by_keys, after[0].get, depth)
        else:
            new_W, new_b = after[0], after[1] if not a.bias_free else []
    elif "params" in a.args:
        new_W, new_b = named_gradients(by_keys, bound["params"].get, depth)
    else:
        new_W, new_b = bound["W"], bound["b"]
    if not isinstance(new_W, (list, tuple)) or not isinstance(new_b, (list, tuple)):
        return None
    return new_W, new_b


def unfold_biases(
    a: Adapter,
    W_grads: list[Any],
    b_grads: list[Any],
    x: Tensor,
    y: Tensor,
    W: Sequence[Tensor],
    b: Sequence[Tensor],
    spec: Spec,
) -> tuple[list[Any], list[Any]]:
    """Folded biases split off W's extra column; with ``bias="none"`` the spec's own bias
    gradients stand in: the network has no biases, so they are not the implementation's to get
    wrong (cases draw b = 0 when ``spec.biases`` is False, so the spec's network is the bias-free
    one). In ``mode="self"`` those would disagree with the implementation's own loss, which
    ignores b: use spec mode with ``bias="none"``."""
    if a.bias == "none":
        bs = [v.detach().double().requires_grad_() for v in b]
        loss = spec.loss(x.double(), y.double(), [w.double() for w in W], bs)
        return W_grads, [
            g.to(device=v.device, dtype=v.dtype) for g, v in zip(torch.autograd.grad(loss, bs), b, strict=False)
        ]
    if a.bias not in ("folded", "folded-first"):
        return W_grads, b_grads
    W_out, b_out = [], []
    for g, w in zip(W_grads, W, strict=False):
        if isinstance(g, Tensor) and g.dim() == 2 and g.shape[1] == w.shape[1] + 1:
            W_out.append(g[:, :-1] if a.bias == "folded" else g[:, 1:])
            b_out.append(g[:, -1:] if a.bias == "folded" else g[:, :1])
        else:  # the wrong shape: both checks report it
            W_out.append(g)
            b_out.append(g)
    return W_out + list(W_grads[len(W) :]), b_out


def _unflatten(a: Adapter, theta: Any, W: Sequence[Tensor], b: Sequence[Tensor]) -> tuple[list[Any], list[Any]] | None:
    """One flat gradient split back into per-layer tensors, in the implementation's layout."""
    flat = from_implementation(W[0], theta) if a.numpy else theta
    shapes = [
        (tuple(weight_in(a, fold(a, w, v)).shape), None if a.bias_free else tuple(bias_in(a, v).shape))
        for w, v in zip(W, b, strict=False)
    ]
    sizes = [math.prod(ws) + (math.prod(bs) if bs else 0) for ws, bs in shapes]
    if not isinstance(flat, Tensor) or flat.dim() != 1 or flat.numel() != sum(sizes):
        return None
    W_grads, b_grads, at = [], [], 0
    for w_shape, b_shape in shapes:
        W_grads.append(flat[at : at + math.prod(w_shape)].reshape(w_shape))
        at += math.prod(w_shape)
        if b_shape:
            b_grads.append(flat[at : at + math.prod(b_shape)].reshape(b_shape))
            at += math.prod(b_shape)
    return W_grads, b_grads
