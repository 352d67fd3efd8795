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

**A ``torch.autograd.Function`` for one linear layer** (adapter ``autograd="op"``, the named
``autograd-function``), in ``nn.Linear``'s convention::

    class LinearFunction(torch.autograd.Function):
        @staticmethod
        def forward(ctx, input, weight, bias=None): ...   # input [B, ..., in], weight [out, in], bias [out]
        @staticmethod
        def backward(ctx, grad_output): ...               # -> (grad_input, grad_weight, grad_bias)

is checked by :func:`check_op` the way torch uses it: ``F.apply(input, weight, bias)``, then
torch's engine runs its backward on a random upstream gradient (``torch.autograd.grad`` with
``grad_outputs``; random, not ones). The forward's output (``param`` ``"output"``) and the three
gradients (``"input"``, ``"W"``, ``"b"``) are compared with autograd of ``input @ weight.T + bias``
in float64 (and W and b with central differences of it, for the table), the inputs must come
back unmodified, and the cases are drawn from the :class:`~gradcheck.domain.Domain`, with its
``leading`` dimensions: ``[B, in]`` and ``[B, 3, in]`` by default, so a backward written for
2-D only (``grad_output.t().mm(input)``) fails on the 3-D case. ``weights="in_out"`` passes the
weight as ``[in, out]``; ``bias="none"`` calls ``F.apply(input, weight)``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from .cases import CaseSpec, draw_layer_op, make_case, parse_dtype
from .checker import CaseResult, Run
from .compare import TOLERANCES, allowed_error, compare
from .defaults import DEFAULT_TIMEOUT
from .invoke import call_contained
from .records import Failure
from .spec import Activation
from .vocabulary import Check

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from .adapters import Adapter
    from .domain import Domain

__all__ = ["LAYER_CHECK", "OP_CASES", "check_layer", "check_op", "check_op_cases", "op_cases", "search_op"]

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


# -- a torch.autograd.Function for one linear layer ------------------------------------------

# The built-in op cases, (n_in, n_out), B, dtype, regime: each is run once per leading shape of
# the domain. Width-1 and square layers, B = 1 and B > 1, both float dtypes, large and tiny values.
OP_CASES = [
    ((4, 3), 5, "float64", "normal"),
    ((3, 1), 1, "float32", "normal"),
    ((1, 1), 1, "float64", "normal"),
    ((5, 4), 3, "float32", "normal"),
    ((4, 4), 2, "float64", "large"),
    ((2, 3), 4, "float64", "tiny"),
    ((3, 5), 2, "float32", "saturated"),
]
_OP_OUTPUTS = ("input", "W", "b")  # the order backward returns them in: grad_input, grad_weight, grad_bias
_FD_STEP = 1e-3  # the reference is linear in each argument: central differences are exact up to round-off


def op_cases(domain: Domain, *, seed: int = 0, devices: Sequence[str] = ("cpu",)) -> list[CaseSpec]:
    """The built-in op cases fitted into ``domain`` (one per leading shape), on every device."""
    cases = [
        fitted
        for device in devices
        for widths, batch, dtype, regime in OP_CASES
        for fitted in domain.fit_op(CaseSpec(widths, batch, dtype, device, regime, seed))
    ]
    return list(dict.fromkeys(cases)) or domain.fit_op(
        CaseSpec((1, 1), 1, domain.dtypes[0], "cpu", domain.regimes[0], seed)
    )


def check_op_cases(
    function: Any, cases: Sequence[CaseSpec], *, adapter: Adapter, timeout: float | None = DEFAULT_TIMEOUT
) -> Run:
    """Every case's :class:`~gradcheck.checker.CaseResult` for the op ``function``."""
    start = time.perf_counter()
    results = [check_op(function, case, adapter=adapter, timeout=timeout) for case in cases]
    return Run(results, [], time.perf_counter() - start)


def search_op(
    function: Any,
    strategy: SearchStrategy[CaseSpec],
    *,
    adapter: Adapter,
    max_examples: int,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Run:
    """Hypothesis draws up to ``max_examples`` op cases from ``strategy`` (the domain's
    :meth:`~gradcheck.domain.Domain.op_search`) and shrinks the first failing one to the
    smallest; the run holds that case's result, or nothing when every case passed."""
    from hypothesis import HealthCheck, find, settings
    from hypothesis.errors import NoSuchExample

    start = time.perf_counter()
    budget = settings(
        max_examples=max_examples,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    try:
        case = find(
            strategy, lambda c: bool(check_op(function, c, adapter=adapter, timeout=timeout).failures), settings=budget
        )
    except NoSuchExample:
        return Run([], [], time.perf_counter() - start)
    return Run([check_op(function, case, adapter=adapter, timeout=timeout)], [], time.perf_counter() - start)


def check_op(function: Any, case: CaseSpec, *, adapter: Adapter, timeout: float | None = DEFAULT_TIMEOUT) -> CaseResult:
    """One case of the op: forward output, the three gradients and the inputs after the call."""
    result = CaseResult(case, evaluated={LAYER_CHECK})
    dtype = parse_dtype(case.dtype)
    values = [t.to(device=case.device, dtype=dtype) for t in draw_layer_op(case)]
    x, W, b, upstream = values
    with_bias = adapter.bias != "none"
    given = [x, W.T.contiguous() if adapter.weights == "in_out" else W, *([b] if with_bias else [])]
    before = [t.clone() for t in given]
    leaves = [t.clone().requires_grad_() for t in given]
    x64, W64, b64, upstream64 = (t.double().cpu() for t in values)
    truth = _op_truth(x64, W64, b64, upstream64, with_bias)
    apply = getattr(function, "apply", None)
    if not callable(apply):
        result.fail(LAYER_CHECK, "type", param="output", got=f"{type(function).__name__} without apply()")
        return result
    forward = call_contained(apply, *leaves, timeout=timeout)
    result.output = forward.output
    if not forward.ok:
        result.fail(LAYER_CHECK, "exception", layer=0, error=forward.error, where=forward.where)
        return result
    out = forward.value
    _judge_into(result, "output", out, truth["output"], dtype)
    if not isinstance(out, Tensor) or tuple(out.shape) != tuple(upstream.shape):
        return result
    backward = call_contained(_backward, out, leaves, upstream, timeout=timeout)
    result.output += backward.output
    if not backward.ok:
        result.fail(LAYER_CHECK, "exception", layer=0, error=backward.error, where=backward.where)
        return result
    for name, got in zip(_OP_OUTPUTS, backward.value, strict=False):
        got = got.T if name == "W" and adapter.weights == "in_out" and isinstance(got, Tensor) else got
        _judge_into(result, name, got, truth[name], dtype)
        ad_truth, fd_truth = truth[name], truth.get(f"fd {name}")
        if ad_truth is not None and fd_truth is not None and isinstance(got, Tensor) and got.shape == ad_truth.shape:
            ad = float((got.double().cpu() - ad_truth).abs().max())
            fd = float((got.double().cpu() - fd_truth).abs().max())
            result.errors[(0, name)] = (ad, fd)
    mutated = [
        n
        for n, old, new in zip(("input", "weight", "bias"), before, leaves, strict=False)
        if not torch.equal(old, new.detach())
    ]
    if mutated:
        result.fail(LAYER_CHECK, "mutation", layer=0, tensors=tuple(mutated))
    return result


def _backward(out: Tensor, leaves: list[Tensor], upstream: Tensor) -> tuple[Any, ...]:
    """Torch's engine runs the Function's own backward on ``upstream``; what it hands back per input."""
    return torch.autograd.grad(out, leaves, grad_outputs=upstream, allow_unused=True)


def _op_truth(x: Tensor, W: Tensor, b: Tensor, upstream: Tensor, with_bias: bool) -> dict[str, Tensor | None]:
    """The linear op's output and gradients for L = Σ upstream ⊙ (x Wᵀ + b), by autograd in
    float64, and W's and b's by central differences of L."""
    leaves = [t.detach().clone().requires_grad_() for t in (x, W, b)]

    def loss(x_: Tensor, W_: Tensor, b_: Tensor) -> Tensor:
        return (upstream * (x_ @ W_.T + (b_ if with_bias else 0.0))).sum()

    output = leaves[0] @ leaves[1].T + (leaves[2] if with_bias else 0.0)
    grads = torch.autograd.grad((upstream * output).sum(), leaves, allow_unused=True)
    truth: dict[str, Tensor | None] = {"output": output.detach(), "input": grads[0], "W": grads[1]}
    truth["b"] = grads[2] if with_bias else None
    truth["fd W"] = _central_differences(lambda t: loss(x, t, b), W)
    truth["fd b"] = _central_differences(lambda t: loss(x, W, t), b)
    return truth


def _central_differences(f: Callable[[Tensor], Tensor], t: Tensor) -> Tensor:
    flat = t.reshape(-1)
    grad = torch.zeros_like(flat)
    for i in range(flat.numel()):
        step = torch.zeros_like(flat)
        step[i] = _FD_STEP
        grad[i] = (f((flat + step).reshape(t.shape)) - f((flat - step).reshape(t.shape))) / (2 * _FD_STEP)
    return grad.reshape(t.shape)


def _judge_into(result: CaseResult, name: str, got: Any, truth: Tensor | None, dtype: torch.dtype) -> None:
    """One output judged (a bias-free op's ``grad_bias`` is not judged)."""
    if truth is None:
        return
    if got is None:
        result.fail(LAYER_CHECK, "missing", layer=0, param=name)
        return
    failure = _judge(name, got.detach().cpu() if isinstance(got, Tensor) else got, truth, dtype, result.case)
    if failure is not None:
        result.failures.append(dataclasses.replace(failure, layer=0))
