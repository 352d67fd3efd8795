"""The chain: the pieces run forward, the spec's loss gradient at the output fed back through them.

:class:`Composed` is the canonical ``forward_backward(x, y, W, b)`` that ``compose`` gives. Each
call builds fresh pieces (:mod:`.pieces`) from the case's parameters, so no state survives from
one case to the next; what the pieces did to the arrays they were given is remembered across
calls in :attr:`Composed.warnings`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from ...invoke import HarnessError
from ...spec import Spec
from ..adapter import Adapter
from ..binding import bind
from ..extraction import to_canonical, unfold_biases
from ..layout import from_implementation, to_implementation
from .pieces import Piece, Theirs, activation_piece, check_names, linear_piece

__all__ = ["Composed", "composed"]


def composed(a: Adapter, fn: Callable[..., Any], spec: Spec) -> Composed:
    """The layers ``a.compose`` names, from ``fn``'s module, chained; ValueError if they do not fit."""
    names = _with_dotted(a, _namespace(fn))
    check_names(a, names)
    return Composed(a, names, spec, getattr(fn, "__qualname__", "layers"))


def _namespace(fn: Callable[..., Any]) -> Mapping[str, Any]:
    """The module namespace ``fn`` was defined in (a class's: its module's, or its methods')."""
    found = getattr(fn, "__globals__", None)
    if isinstance(found, dict):
        return found
    module = sys.modules.get(getattr(fn, "__module__", "") or "")
    if module is not None and getattr(module, getattr(fn, "__name__", ""), None) is fn:
        return vars(module)
    return getattr(getattr(fn, "forward", None), "__globals__", {})


def _with_dotted(a: Adapter, names: Mapping[str, Any]) -> Mapping[str, Any]:
    """``names`` plus each ``module.Name`` of ``a.compose`` that its module defines, imported as the
    code's own imports would be (layers spread over files: ``"ReLU.ReLU"``, ``"Layers.ReLU.ReLU"``).
    A module that cannot be imported adds nothing, and :func:`check_names` says what is missing."""
    dotted = [n for n in a.compose if "." in n and n not in names]
    if not dotted:
        return names
    found = dict(names)
    for name in dotted:
        module, _, attr = name.rpartition(".")
        try:
            found[name] = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError):
            continue
    return found


class Composed:
    """The chained layers as a canonical ``forward_backward(x, y, W, b)``.

    ``warnings`` lists, once each, the pieces that changed in place the array they were given
    (``input-mutation``, reported and not failed: see :mod:`gradcheck.adapters.composition`)."""

    def __init__(self, a: Adapter, names: Mapping[str, Any], spec: Spec, label: str) -> None:
        self.adapter, self.names, self.spec, self.__qualname__ = a, names, spec, label
        self._findings: dict[str, None] = {}

    @property
    def warnings(self) -> list[str]:
        return list(self._findings)

    def __call__(self, x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]) -> Any:
        try:
            return self._run(x, y, W, b)
        except Theirs as raised:
            raise raised.error from None
        except HarnessError:
            raise
        except Exception as exc:  # the chain's own code failed: gradcheck's fault
            raise HarnessError(
                f"compose ({self.__qualname__}): {type(exc).__name__}: {exc} in gradcheck's layer chain"
            ) from exc

    def _run(self, x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]) -> Any:
        a, spec = self.adapter, self.spec
        bound = bind(a, x, y, W, b)
        pieces = self._pieces(bound, W)
        out = bound["x"]
        for index, piece in enumerate(pieces):
            out = self._watched(piece, "forward", out, judged_elsewhere=index == 0)
        a_L = self._output(x, y, out)
        loss = spec.reduce_batch(spec.column_losses(a_L, y.double())) + spec.penalty(
            [w.double() for w in W], [v.double() for v in b], y.shape[-1]
        )
        (upstream,) = torch.autograd.grad(loss, a_L)
        grad = to_implementation(a, (upstream.T if a.layout == "row" else upstream).to(x.dtype))
        for piece in reversed(pieces):
            grad = self._watched(piece, "backward", grad)
        pairs = [p.gradients() for p in pieces if p.gradients is not None]
        W_grads, b_grads = [dW for dW, _ in pairs], [] if a.bias_free else [db for _, db in pairs]
        loss_out, W_out, b_out = to_canonical(a, loss.detach().to(x.dtype), W_grads, b_grads, W, b)
        W_out, b_out = unfold_biases(a, W_out, b_out, x, y, W, b, spec)
        return loss_out, *self._with_penalty(W_out, b_out, W, b, y.shape[-1])

    def _pieces(self, bound: dict[str, Any], W: Sequence[Tensor]) -> list[Piece]:
        """Linear and activation pieces, layer by layer, holding the case's parameters (``bound``)."""
        a = self.adapter
        pieces: list[Piece] = []
        for layer, w in enumerate(W):
            v = None if a.bias_free else bound["b"][layer]
            widths = (int(w.shape[1]), int(w.shape[0]))
            pieces.append(linear_piece(a, self.names, layer, bound["W"][layer], v, widths))
            activation = a.compose[2] if layer == len(W) - 1 else a.compose[1]
            if activation:
                pieces.append(activation_piece(a, self.names, activation, layer))
        return pieces

    def _watched(self, piece: Piece, direction: str, given: Any, judged_elsewhere: bool = False) -> Any:
        """``piece``'s forward or backward on ``given``; a change to ``given`` in place is noted
        (the first forward's input is the case's x, which the checker judges itself)."""
        before = None if judged_elsewhere else _snapshot(given)
        result = piece.forward(given) if direction == "forward" else piece.backward(given)
        if before is not None and _changed(before, given):
            name = piece.forward_name if direction == "forward" else piece.backward_name
            what = "its input" if direction == "forward" else "the upstream gradient it is given"
            self._findings[
                f"input-mutation (reported, not failed): layer {piece.layer}'s {name} changes {what} in place; "
                "its results can be right, but a caller that reuses that array sees it changed"
            ] = None
        return result

    def _output(self, x: Tensor, y: Tensor, out: Any) -> Tensor:
        """The network's output as a float64 column-layout tensor that the loss can differentiate."""
        a = self.adapter
        a_L = from_implementation(x, out) if a.numpy else out
        last = self.adapter.compose[2] or self.adapter.compose[0]
        if not isinstance(a_L, Tensor):
            raise Theirs(TypeError(f"the last layer's forward ({last}) returned {type(out).__name__}, not an array"))
        a_L = a_L.T if a.layout == "row" else a_L
        if a_L.shape != y.shape:
            want = tuple(y.T.shape if a.layout == "row" else y.shape)
            got = tuple(a_L.T.shape if a.layout == "row" else a_L.shape)
            raise Theirs(ValueError(f"the last layer's forward ({last}) returned shape {got}, not {want}"))
        return a_L.detach().double().requires_grad_()

    def _with_penalty(
        self, W_grads: list[Any], b_grads: list[Any], W: Sequence[Tensor], b: Sequence[Tensor], batch: int
    ) -> tuple[list[Any], list[Any]]:
        """The spec's L2 term 2c·θ added to the layers' data gradients (they never see the penalty)."""
        c = 2 * self.spec.penalty_factor(batch)

        def plus(g: Any, theta: Tensor) -> Any:
            usable = isinstance(g, Tensor) and g.shape == theta.shape and g.is_floating_point()
            return g + c * theta.to(g.dtype) if usable and c else g

        W_out = [plus(g, w) for g, w in zip(W_grads, W, strict=False)] + W_grads[len(W) :]
        if not self.spec.l2_biases:
            return W_out, b_grads
        return W_out, [plus(g, v) for g, v in zip(b_grads, b, strict=False)] + b_grads[len(b) :]


def _snapshot(value: Any) -> Any:
    """A copy of an array (numpy or torch) to compare with after the call; None for anything else."""
    if isinstance(value, Tensor):
        return value.detach().clone()
    copy = getattr(value, "copy", None)
    return copy() if callable(copy) and hasattr(value, "shape") else None


def _changed(before: Any, after: Any) -> bool:
    if isinstance(before, Tensor):
        return (
            not isinstance(after, Tensor)
            or after.shape != before.shape
            or not bool(torch.equal(torch.nan_to_num(after.detach()), torch.nan_to_num(before)))
        )
    import numpy as np

    if getattr(after, "shape", None) != before.shape:
        return True
    same = (before == after) | ((before != before) & (after != after))
    return not bool(np.all(same))
