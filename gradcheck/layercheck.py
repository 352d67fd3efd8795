"""Check one layer's backward pass against autograd, given an upstream gradient.

Per-layer code (CMU MyTorch layers, deeplearning.ai's ``linear_activation_backward``, homework
that asks for "the backward of one layer") has no loss of its own: it maps the gradient at the
layer's output to the gradients of its parameters and input. :func:`check_layer` feeds such a
function a random upstream gradient δ and compares what it returns with autograd on that single
layer, with the same comparison and dtype tolerances as every other check.

The supported signature (column layout, like the seed)::

    backward(a_prev, W, b, cache, da) -> (da_prev, dW, db)

* ``a_prev`` ``[n_in, B]``: the layer's input; ``W`` ``[n_out, n_in]``; ``b`` ``[n_out, 1]``;
* ``cache`` ``[n_out, B]``: the pre-activation ``z = W a_prev + b`` (``cache="z"``, the
  deeplearning.ai convention) or the layer's output ``a = act(z)`` (``cache="a"``, for code
  that takes σ′ as ``a (1 − a)``);
* ``da`` ``[n_out, B]``: the upstream gradient ∂L/∂a at the layer's output;
* returned: ``da_prev`` = ∂L/∂a_prev ``[n_in, B]`` (the propagated δ), ``dW`` ``[n_out, n_in]``,
  ``db`` ``[n_out, 1]``, where L = Σ a ⊙ da, so the gradients are exactly what backprop
  passes on. ``numpy=True``: every argument is a float64 numpy array and arrays come back.

Failures are :class:`~gradcheck.records.Failure` objects, check ``"layer-gradient"``, ``param``
``"W"``, ``"b"`` or ``"delta"``, ``case`` the :class:`~gradcheck.cases.CaseSpec` that rebuilds
the layer's values (its ``seed`` also draws δ).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

from .cases import CaseSpec, make_case
from .compare import TOLERANCES, allowed_error, compare
from .defaults import DEFAULT_TIMEOUT
from .invoke import call_contained
from .records import Failure
from .spec import Activation
from .vocabulary import Check

__all__ = ["LAYER_CHECK", "check_layer"]

LAYER_CHECK: Check = "layer-gradient"
_OUTPUTS = ("delta", "W", "b")  # the order backward returns them in: da_prev, dW, db


def check_layer(
    backward: Callable[..., Any],
    *,
    activation: str | Activation = "sigmoid",
    widths: tuple[int, int] = (4, 3),
    batch: int = 5,
    seeds: Iterable[int] = range(3),
    cache: str = "z",
    numpy: bool = False,
    dtype: str = "float64",
    timeout: float | None = DEFAULT_TIMEOUT,
) -> list[Failure]:
    """Failures of ``backward`` (signature in the module docstring) on one layer of
    ``widths = (n_in, n_out)`` with ``activation``, over a batch of ``batch``, one case per seed;
    ``[]`` when every output matches autograd."""
    if cache not in ("z", "a"):
        raise ValueError(f"cache={cache!r} is not one of z, a")
    act = Activation.parse(activation)
    failures: list[Failure] = []
    for seed in seeds:
        case_spec = CaseSpec(tuple(widths), batch, dtype, "cpu", "normal", seed)
        failures += _check_one(backward, act, case_spec, cache, numpy, timeout)
    return failures


def _check_one(
    backward: Callable[..., Any], act: Activation, case_spec: CaseSpec, cache: str, numpy: bool, timeout: float | None
) -> list[Failure]:
    case = make_case(case_spec)
    a_prev, W, b = case.x, case.W[0], case.b[0]
    generator = torch.Generator().manual_seed(case_spec.seed)
    delta = torch.randn(W.shape[0], a_prev.shape[1], generator=generator, dtype=torch.float64).to(a_prev.dtype)
    expected = _autograd(act, a_prev, W, b, delta)
    z = W @ a_prev + b
    given = z if cache == "z" else act(z)
    outcome = call_contained(backward, *(_arg(t, numpy) for t in (a_prev, W, b, given, delta)), timeout=timeout)
    if not outcome.ok:
        return [Failure(LAYER_CHECK, "exception", error=outcome.error, where=outcome.where, case=case_spec)]
    value = outcome.value
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        return [Failure(LAYER_CHECK, "return-shape", got=type(value).__name__, case=case_spec)]
    failures = []
    for name, got, truth in zip(_OUTPUTS, value, expected):
        failure = _judge(name, got, truth, a_prev.dtype, case_spec)
        if failure is not None:
            failures.append(failure)
    return failures


def _autograd(act: Activation, a_prev: Tensor, W: Tensor, b: Tensor, delta: Tensor) -> tuple[Tensor, ...]:
    """(∂L/∂a_prev, ∂L/∂W, ∂L/∂b) for L = Σ act(W a_prev + b) ⊙ δ, in float64."""
    leaves = [t.detach().double().requires_grad_() for t in (a_prev, W, b)]
    loss = (act(leaves[1] @ leaves[0] + leaves[2]) * delta.double()).sum()
    return torch.autograd.grad(loss, leaves)


def _arg(t: Tensor, numpy: bool) -> Any:
    return t.detach().double().numpy().copy() if numpy else t.detach().clone()


def _judge(name: str, got: Any, truth: Tensor, dtype: torch.dtype, case_spec: CaseSpec) -> Failure | None:
    try:
        got_t = torch.as_tensor(got)
    except (TypeError, ValueError, RuntimeError):
        return Failure(LAYER_CHECK, "type", param=name, got=type(got).__name__, case=case_spec)
    if tuple(got_t.shape) != tuple(truth.shape):
        return Failure(
            LAYER_CHECK,
            "shape",
            param=name,
            expected=list(truth.shape),
            got=list(got_t.shape),
            case=case_spec,
        )
    mismatch = compare(got_t.double(), truth, allowed_error(truth, TOLERANCES[dtype]))
    if mismatch is None:
        return None
    return Failure(
        LAYER_CHECK,
        "value",
        param=name,
        mismatch=mismatch,
        case=case_spec,
    )
