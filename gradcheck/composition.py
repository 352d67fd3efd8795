"""Per-layer composition: chain a course's ``Linear`` / ``Sigmoid``-style objects into one call.

The harness builds the layers from the case's parameters, runs their ``forward`` pieces, takes
the loss and its gradient at the output from the specification, and feeds that upstream
gradient back through their ``backward`` pieces: every layer is checked against a given
upstream gradient. It runs in this process only (the objects live between forward and
backward), so the sandboxed grader refuses it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from .adapters import Adapter
from .adapters import _back as back
from .adapters import _bind as bind
from .adapters import _canonical as canonical
from .adapters import _key as key
from .adapters import _out as to_layout
from .spec import Spec

__all__ = ["composed"]


def composed(a: Adapter, fn: Callable[..., Any], spec: Spec) -> Callable[..., Any]:
    """Per-layer pieces chained by the harness (``compose``), in this process: each layer is a
    linear object (bare, ``attributes`` W and b set, ``forward(a) -> z``, ``backward(dz) -> da``
    leaving its gradients in the attributes named by ``grad_keys``) and an activation object
    (``cls()``, ``forward(z)``, ``backward(da) -> dz``). The loss and its gradient at the output
    come from the spec (from the implementation's own forward output), and so does the L2 term:
    each layer is checked against a given upstream gradient."""
    names = getattr(fn, "__globals__", None) or getattr(getattr(fn, "forward", None), "__globals__", {})
    linear, hidden, output = (names.get(n) if n else None for n in a.compose)
    missing = next((n for n, cls in zip(a.compose, (linear, hidden, output)) if n and not isinstance(cls, type)), None)
    if missing:
        raise ValueError(f"compose: the implementation's module defines no class {missing!r}")
    keys = a.grad_keys or ("dW", "db")

    def forward_backward(x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]) -> Any:
        bound = bind(a, x, y, W, b)
        layers, lins = [], []
        for l in range(len(W)):
            lin = linear.__new__(linear)
            lins.append(lin)
            setattr(lin, a.attributes[0] if a.attributes else "W", bound["W"][l])
            setattr(lin, a.attributes[1] if len(a.attributes) > 1 else "b", bound["b"][l])
            act = output if l == len(W) - 1 else hidden
            layers += [lin] + ([act()] if act is not None else [])
        out = bound["x"]
        for layer in layers:
            out = layer.forward(out)
        a_L = back(x, out) if a.numpy else out
        if not isinstance(a_L, Tensor):
            return a_L
        a_L = (a_L.T if a.layout == "row" else a_L).detach().double().requires_grad_()
        loss = spec.reduce_batch(spec.column_losses(a_L, y.double())) + spec.penalty(
            [w.double() for w in W], [v.double() for v in b], y.shape[-1]
        )
        (upstream,) = torch.autograd.grad(loss, a_L)
        grad = to_layout(a, (upstream.T if a.layout == "row" else upstream).to(x.dtype))
        for layer in reversed(layers):
            grad = layer.backward(grad)
        W_grads = [getattr(lin, key(keys[0], l), None) for l, lin in enumerate(lins)]
        b_grads = [getattr(lin, key(keys[1], l), None) for l, lin in enumerate(lins)]
        c = 2 * spec.penalty_factor(y.shape[-1])
        result = canonical(a, loss.detach().to(x.dtype), W_grads, b_grads, W, b)
        W_out = [g + c * w if isinstance(g, Tensor) and c else g for g, w in zip(result[1], W)]
        b_out = [g + c * v if isinstance(g, Tensor) and c and spec.l2_biases else g for g, v in zip(result[2], b)]
        return result[0], W_out, b_out

    forward_backward.__qualname__ = getattr(fn, "__qualname__", "layers")
    forward_backward.adapted = fn  # type: ignore[attr-defined]
    return forward_backward
