"""The checker core: call an implementation on cases and turn what it returns into verdicts.

For each case the implementation is called once, on fresh copies of the inputs, and judged by a
fixed sequence of named checks (see :data:`CHECKS`); each failure is a :class:`Failure` record
naming the check, the layer and the parameter. Values are compared with the autograd oracle
under the implementation dtype's tolerance, and the finite-difference and reference oracles
arbitrate (:mod:`gradcheck.truth`): where the oracles disagree with each other, the verdict is
*inconclusive* and nobody is blamed. Failures are data; their text is built by
:mod:`gradcheck.records`. Nothing here prints or knows about the CLI, the plugin or the grader.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .cases import Case, CaseSpec, make_case, parse_dtype
from .compare import TOLERANCES, allowed_error, compare, noise_of
from .defaults import DEFAULT_TIMEOUT
from .invoke import CallOutcome, call_contained
from .lossvalue import loss_value
from .records import Failure
from .selfconsistency import check_self_consistency
from .spec import SEED, Spec
from .truth import Truth, compute_truth
from .vocabulary import CHECKS, PARAMS, Check, Kind, Mode, parse_mode

__all__ = [
    "CHECKS",
    "DEFAULT_TIMEOUT",
    "PARAMS",
    "CaseResult",
    "Failure",
    "Run",
    "Truth",
    "check_case",
    "check_cases",
    "compute_truth",
    "fresh_copy_passes",
]


@dataclass
class CaseResult:
    """Everything one call showed: failures, which checks ran, what came back (float64 copies)."""

    case: CaseSpec
    failures: list[Failure] = field(default_factory=list)
    evaluated: set[Check] = field(default_factory=set)
    truth: Truth | None = None
    returned: dict[tuple[int, str], Tensor] = field(default_factory=dict)
    errors: dict[tuple[int, str], tuple[float, float]] = field(default_factory=dict)  # max abs error vs (autograd, FD)
    output: str = ""

    def fail(self, check: Check, kind: Kind, **details: Any) -> None:
        """Record a failure of this case; ``details`` are :class:`~gradcheck.records.Failure` fields."""
        self.failures.append(Failure(check, kind, case=self.case, **details))


def _check_loss(result: CaseResult, loss: Any, truth: Truth, dtype: torch.dtype) -> None:
    result.evaluated.add("loss-value")
    got = loss_value(loss)
    expected = float(truth.autograd.loss)
    if got is None:
        result.fail("loss-value", "type", param="loss", got=type(loss).__name__)
        return
    allowed = TOLERANCES[dtype].rtol * abs(expected) + truth.slack[(None, "loss")]
    if not abs(got - expected) <= allowed:
        result.fail("loss-value", "value", param="loss", expected=expected, got=got, allowed=allowed)


def _gradient_lists(result: CaseResult, returned: Sequence[Any], depth: int) -> dict[str, Sequence[Any]]:
    """The W and b gradient lists that have the right length; failures for the others."""
    result.evaluated.add("gradient-count")
    usable: dict[str, Sequence[Any]] = {}
    for param, grads in zip(PARAMS, returned[1:]):
        if not isinstance(grads, (list, tuple)):
            result.fail("gradient-count", "type", param=param, expected=depth, got=type(grads).__name__)
        elif len(grads) != depth:
            result.fail("gradient-count", "count", param=param, expected=depth, got=len(grads))
        else:
            usable[param] = grads
    return usable


def _check_tensor(
    result: CaseResult,
    case: Case,
    truth: Truth,
    layer: int,
    param: str,
    grad: Any,
    judge: bool = True,
    noise: Tensor | float = 0.0,
) -> None:
    """Type, shape, dtype, device, finiteness and (if ``judge``) values of one returned gradient;
    ``noise`` is the extraction path's own per-entry error (:class:`~gradcheck.compare.WithNoise`)."""
    where = {"layer": layer, "param": param}
    target = (case.W if param == "W" else case.b)[layer]
    result.evaluated.add("gradient-types")
    if not isinstance(grad, Tensor):
        result.fail("gradient-types", "missing" if grad is None else "type", **where, got=type(grad).__name__)
        return
    if type(grad) is not Tensor:
        result.fail("gradient-types", "subclass", **where, got=type(grad).__name__)
        return
    result.evaluated.add("gradient-shapes")
    if grad.shape != target.shape:
        result.fail("gradient-shapes", "shape", **where, expected=list(target.shape), got=list(grad.shape))
        return
    result.evaluated.update({"gradient-dtypes", "gradient-devices", "finite"})
    if grad.dtype != target.dtype:  # an integer gradient is always one of these: the targets are floating
        result.fail("gradient-dtypes", "dtype", **where, expected=str(target.dtype), got=str(grad.dtype))
    if grad.device != target.device:
        result.fail("gradient-devices", "device", **where, expected=str(target.device), got=str(grad.device))
    if not grad.is_floating_point():
        return
    got = grad.detach().to(device="cpu", dtype=torch.float64, copy=True)  # a copy: the caller may reuse its buffers
    result.returned[(layer, param)] = got
    if not bool(torch.isfinite(got).all()):
        bad = ~torch.isfinite(got)
        kind: Kind = "nan" if bool(torch.isnan(got).any()) else "inf"
        index = tuple(int(i) for i in bad.nonzero()[0])
        result.fail("finite", kind, **where, count=int(bad.sum()), index=index)
        return
    if (layer, param) in truth.disagreements or not judge:
        return  # inconclusive: the report lists truth.disagreements, and nobody is blamed
    result.evaluated.add("gradient-values")
    expected = truth.autograd.param(layer, param)
    if isinstance(noise, Tensor) and noise.shape != expected.shape:
        noise = 0.0
    allowed = allowed_error(expected, TOLERANCES[target.dtype], truth.slack[(layer, param)] + noise)
    kinks = truth.fd.kinks(layer, param)
    if kinks is not None:  # a finite difference across a kink can't confirm anything: not judged
        allowed = allowed.masked_fill(kinks, math.inf)
    mismatch = compare(got, expected, allowed)
    fd_error = float((got - truth.fd.param(layer, param)).abs().max())
    result.errors[(layer, param)] = (float((got - expected).abs().max()), fd_error)
    if mismatch:
        result.fail("gradient-values", "value", **where, mismatch=mismatch, fd_max_abs_error=fd_error)


def _check_mutation(result: CaseResult, case: Case, called_with: Case) -> None:
    result.evaluated.add("input-mutation")
    for (name, before), after in zip(case.tensors().items(), called_with.tensors().values()):
        if after.shape != before.shape or not torch.equal(after, before):
            layer = int(name[2:-1]) if name[0] in "Wb" else None
            param = name[0] if name[0] in "Wb" else None
            result.fail("input-mutation", "mutation", layer=layer, param=param, tensors=(name,))


def _check_returns(result: CaseResult, value: Any) -> bool:
    """Whether the call returned a 3-tuple (or list); a failure saying what it returned if not."""
    result.evaluated.add("returns")
    if isinstance(value, (tuple, list)) and len(value) == 3:
        return True
    count = len(value) if isinstance(value, (tuple, list)) else None
    result.fail("returns", "type", got=type(value).__name__, count=count)
    return False


def check_case(
    fn: Callable[..., Any], case: Case, truth: Truth, *, timeout: float | None = DEFAULT_TIMEOUT, mode: Mode = "spec"
) -> tuple[CaseResult, CallOutcome]:
    """Call ``fn`` once on a fresh copy of ``case`` and run every per-case check.

    ``mode`` says who judges the loss and gradient values (:mod:`gradcheck.selfconsistency`):
    ``"spec"`` the specification's oracles, ``"self"`` the implementation's own loss (differenced
    through its own forward; the loss value itself is not judged), ``"both"`` both.
    """
    result = CaseResult(case.spec, truth=truth)
    called_with = case.fresh_copy()
    outcome = call_contained(fn, called_with.x, called_with.y, called_with.W, called_with.b, timeout=timeout)
    result.output = outcome.output
    result.evaluated.add("call")
    if not outcome.ok:
        kind: Kind = "timeout" if outcome.timed_out else "exception"
        result.fail("call", kind, error=outcome.error, where=outcome.where)
        return result, outcome
    value = outcome.value
    if not _check_returns(result, value):
        return result, outcome
    dtype = parse_dtype(case.spec.dtype)
    if mode != "self":
        _check_loss(result, value[0], truth, dtype)
    for param, grads in _gradient_lists(result, value, len(case.W)).items():
        for layer, grad in enumerate(grads):
            noise = noise_of(value, layer, param)
            _check_tensor(result, case, truth, layer, param, grad, judge=mode != "self", noise=noise)
    _check_mutation(result, case, called_with)
    if mode != "spec":
        check_self_consistency(fn, case, result, value[0], timeout=timeout, biases=truth.spec.biases)
    return result, outcome


def _check_hidden_state(first: CaseResult, again: CaseResult) -> None:
    """The same case twice, with other shapes in between, must give the same gradients.

    If it doesn't, whatever else the repeat got wrong is a consequence: its failures are
    replaced by one whole-call ``hidden-state`` failure.
    """
    again.evaluated.add("hidden-state")
    tolerance = TOLERANCES[parse_dtype(first.case.dtype)]
    changed = []
    for (layer, param), before in first.returned.items():
        after = again.returned.get((layer, param))
        if after is None or after.shape != before.shape:
            continue
        both_nan = before.isnan() & after.isnan()  # NaN again is the same answer, not a changed one
        before, after = before.masked_fill(both_nan, 0.0), after.masked_fill(both_nan, 0.0)
        if compare(after, before, allowed_error(before, tolerance)):
            changed.append(f"{param}_grads[{layer}]")
    if changed:
        again.failures = [Failure("hidden-state", "state", case=again.case, tensors=tuple(changed))]


def fresh_copy_passes(case: CaseSpec, in_sequence: Failure) -> Failure:
    """The ``hidden-state`` failure of a case that fails after earlier calls (first with
    ``in_sequence``) but passes as the first call of a freshly loaded copy."""
    return Failure("hidden-state", "state", case=case, in_sequence=in_sequence)


@dataclass
class Run:
    """The raw outcome of checking one implementation on a list of cases."""

    results: list[CaseResult]
    skipped: list[CaseSpec]
    elapsed_s: float


def _blame_state(
    results: list[CaseResult],
    fresh: Callable[[], Callable[..., Any]],
    timeout: float | None,
    spec: Spec = SEED,
    mode: Mode = "spec",
) -> None:
    """Re-run each failing case (after the first call) on a freshly loaded implementation.

    If a case fails in sequence but passes as the first call of a fresh copy, its failures were
    caused by earlier calls: they are replaced by one ``hidden-state`` failure saying so.
    """
    for result in results[1:]:
        if not result.failures or any(f.check in ("call", "hidden-state") for f in result.failures):
            continue
        case = make_case(result.case, spec)
        again, _ = check_case(fresh(), case, result.truth, timeout=timeout, mode=mode)  # type: ignore[arg-type]
        if not again.failures:
            first = min(result.failures, key=lambda f: CHECKS.index(f.check))
            result.failures = [fresh_copy_passes(result.case, first)]


def check_cases(
    fn: Callable[..., Any],
    specs: Sequence[CaseSpec],
    *,
    spec: Spec = SEED,
    timeout: float | None = DEFAULT_TIMEOUT,
    fresh: Callable[[], Callable[..., Any]] | None = None,
    on_case: Callable[[CaseResult], None] | None = None,
    mode: Mode = "spec",
    fd: str = "auto",
    fd_memory: int | None = None,
) -> Run:
    """Check ``fn`` on every case, then look for hidden state.

    ``fd`` and ``fd_memory`` (bytes) say which finite differences arbitrate each case
    (:func:`gradcheck.truth.compute_truth`).

    Hidden state shows two ways: the first case, repeated at the end, gives other gradients; or
    (when ``fresh`` can load a new copy of the implementation) a failing case passes as the first
    call of a fresh copy. After a timeout the implementation is not called again: a hang costs
    one time limit, not one per case.
    """
    mode = parse_mode(mode)
    start = time.perf_counter()
    results: list[CaseResult] = []
    skipped: list[CaseSpec] = []
    for case_spec in specs:
        if any(f.kind == "timeout" for r in results for f in r.failures):
            skipped.append(case_spec)
            continue
        case = make_case(case_spec, spec)
        result, _ = check_case(
            fn, case, compute_truth(spec, case, fd_mode=fd, memory_bytes=fd_memory), timeout=timeout, mode=mode
        )
        results.append(result)
        if on_case:
            on_case(result)
    if results and results[0].returned and not skipped:
        first = results[0]
        again, _ = check_case(fn, make_case(first.case, spec), first.truth, timeout=timeout, mode=mode)  # type: ignore[arg-type]
        _check_hidden_state(first, again)
        results.append(again)
        if fresh is not None:
            _blame_state(results, fresh, timeout, spec, mode)
    return Run(results, skipped, time.perf_counter() - start)
