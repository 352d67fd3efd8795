"""A ``torch.autograd.Function`` whose forward is a whole loss (``autograd="loss"``).

Code that writes its own backward as an autograd Function of the entire network::

    class MLPLoss(torch.autograd.Function):
        @staticmethod
        def forward(ctx, X, y, W1, b1, W2, b2): ...   # -> the loss, a scalar tensor
        @staticmethod
        def backward(ctx, grad_loss): ...             # -> (None, None, dW1, db1, dW2, db2)

is called the way torch calls it, ``MLPLoss.apply(...)``, with the parameters as leaves that
require gradients; the gradients are what torch's engine hands back from the Function's own
backward (``torch.autograd.grad``), so a wrong number of returned gradients or an
incompatible shape is the engine's error, raised in the code's own call. The positional
arguments are ``args`` with lists and dicts spread: ``W`` and ``b`` give every layer's tensor in
turn, ``params`` its values in key order (``W1, b1, W2, b2``); the layout fields
(:mod:`.layout`) say how each tensor looks. The one-layer op (``autograd="op"``) is checked
by :mod:`gradcheck.layercheck` instead: it has no loss of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from .adapter import Adapter
from .binding import bind
from .extraction import to_canonical
from .guard import machinery, student

__all__ = ["function_loss"]


def function_loss(a: Adapter, fn: Any) -> Callable[..., Any]:
    """``fn`` (an autograd Function class) as a canonical ``forward_backward(x, y, W, b)``."""
    apply = getattr(fn, "apply", None)

    def forward_backward(x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]) -> Any:
        with machinery("autograd-function loss"):
            bound = bind(a, x, y, W, b)
            leaves = {id(t): t.detach().clone().requires_grad_() for t in (*bound["W"], *bound["b"])}
            arguments = [leaves.get(id(t), t) for name in a.args for t in _spread(bound[name])]
            if not callable(apply):
                return student(_not_a_function, fn)
            loss = student(apply, *arguments)
            order = [leaves[id(t)] for t in (*bound["W"], *bound["b"])]
            if not isinstance(loss, Tensor) or not loss.requires_grad:
                return loss, [None] * len(bound["W"]), [None] * len(bound["b"])
            grads = student(torch.autograd.grad, loss.sum(), order, allow_unused=True)
            depth = len(bound["W"])
            return to_canonical(a, loss.detach(), list(grads[:depth]), list(grads[depth:]), W, b)

    forward_backward.__qualname__ = getattr(fn, "__qualname__", "Function")
    return forward_backward


def _spread(value: Any) -> list[Any]:
    """A bound argument as positional tensors: a list's items, a dict's values, else itself."""
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, list) else [value]


def _not_a_function(fn: Any) -> None:
    raise TypeError(f"{getattr(fn, '__name__', fn)!r} has no apply(): not a torch.autograd.Function")
