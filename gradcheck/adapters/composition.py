"""Per-layer composition: chain a course's ``Linear`` / ``Sigmoid``-style objects into one call.

``compose=(linear, hidden activation, output activation or "")`` names classes of the target's
module that the harness chains itself, layer by layer: it builds the layers from the case's
parameters, runs their ``forward`` pieces, takes the loss and its gradient at the output from the
specification, and feeds that upstream gradient back through their ``backward`` pieces, so every
layer is checked against a given upstream gradient. The protocol is in :func:`composed`. It runs
in this process only (the objects live between forward and backward), so the sandboxed grader
refuses it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from ..spec import Spec
from .adapter import Adapter
from .binding import bind
from .extraction import to_canonical
from .layout import from_implementation, layer_key, to_implementation

__all__ = ["composed"]


def composed(a: Adapter, fn: Callable[..., Any], spec: Spec) -> Callable[..., Any]:
    """Per-layer pieces chained by the harness (``compose``), in this process: each layer is a
    linear object (bare, ``attributes`` W and b set, ``forward(a) -> z``, ``backward(dz) -> da``
    leaving its gradients in the attributes named by ``grad_keys``) and an activation object
    (``cls()``, ``forward(z)``, ``backward(da) -> dz``). The loss and its gradient at the output
    come from the spec (from the implementation's own forward output), and so does the L2 term:
    each layer is checked against a given upstream gradient."""
    linear, hidden, output = _classes(a, fn)
    keys = a.grad_keys or ("dW", "db")

    def forward_backward(x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]) -> Any:
        bound = bind(a, x, y, W, b)
        layers: list[Any] = []
        lins: list[Any] = []
        for index in range(len(W)):
            lin = linear.__new__(linear)
            lins.append(lin)
            setattr(lin, a.attributes[0] if a.attributes else "W", bound["W"][index])
            setattr(lin, a.attributes[1] if len(a.attributes) > 1 else "b", bound["b"][index])
            act = output if index == len(W) - 1 else hidden
            layers += [lin] + ([act()] if act is not None else [])
        out = bound["x"]
        for layer in layers:
            out = layer.forward(out)
        a_L = from_implementation(x, out) if a.numpy else out
        if not isinstance(a_L, Tensor):
            return a_L
        a_L = (a_L.T if a.layout == "row" else a_L).detach().double().requires_grad_()
        loss = spec.reduce_batch(spec.column_losses(a_L, y.double())) + spec.penalty(
            [w.double() for w in W], [v.double() for v in b], y.shape[-1]
        )
        (upstream,) = torch.autograd.grad(loss, a_L)
        grad = to_implementation(a, (upstream.T if a.layout == "row" else upstream).to(x.dtype))
        for layer in reversed(layers):
            grad = layer.backward(grad)
        W_grads = [getattr(lin, layer_key(keys[0], i), None) for i, lin in enumerate(lins)]
        b_grads = [getattr(lin, layer_key(keys[1], i), None) for i, lin in enumerate(lins)]
        c = 2 * spec.penalty_factor(y.shape[-1])
        result = to_canonical(a, loss.detach().to(x.dtype), W_grads, b_grads, W, b)
        W_out = [g + c * w if isinstance(g, Tensor) and c else g for g, w in zip(result[1], W, strict=False)]
        b_out = [
            g + c * v if isinstance(g, Tensor) and c and spec.l2_biases else g
            for g, v in zip(result[2], b, strict=False)
        ]
        return result[0], W_out, b_out

    forward_backward.__qualname__ = getattr(fn, "__qualname__", "layers")
    return forward_backward


def _classes(a: Adapter, fn: Callable[..., Any]) -> tuple[Any, type | None, type | None]:
    """The classes ``compose`` names, from the implementation's module (an unnamed activation: None).
    The linear class is made bare, through its own ``__new__``, so it is typed as anything."""
    names = getattr(fn, "__globals__", None) or getattr(getattr(fn, "forward", None), "__globals__", {})
    found: list[type | None] = []
    for name in a.compose:
        cls = names.get(name) if name else None
        if name and not isinstance(cls, type):
            raise ValueError(f"compose: the implementation's module defines no class {name!r}")
        found.append(cls)
    linear, hidden, output = found
    assert linear is not None  # the adapter requires a linear class
    return linear, hidden, output
