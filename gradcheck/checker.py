"""The checker core: call an implementation on cases and turn what it returns into verdicts.

For each case the implementation is called once, on fresh copies of the inputs, and judged by a
fixed sequence of named checks (see :data:`CHECKS`); each failure is a :class:`Failure` record
naming the check, the layer and the parameter. Values are compared with the autograd oracle
under the implementation dtype's tolerance, and the finite-difference and reference oracles
arbitrate: where the oracles disagree with each other, the verdict is *inconclusive* and nobody
is blamed. Nothing here prints or knows about the CLI, the plugin or the grader.
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
from .compare import TOLERANCES, Mismatch, allowed_error, compare, describe_mismatch
from .defaults import DEFAULT_TIMEOUT
from .invoke import CallOutcome, call_contained
from .lossvalue import loss_value
from .oracles import Gradients, autograd_oracle, finite_difference_oracle, reference_oracle
from .spec import SEED, Spec

__all__ = ["CHECKS", "CaseResult", "Failure", "Truth", "check_case", "check_cases", "compute_truth"]

# Every check, in the order a case is judged. A case stops at the first of the first two that
# fails (nothing else can be judged without a 3-tuple).
CHECKS = (
    "call",
    "returns",
    "loss-value",
    "gradient-count",
    "gradient-types",
    "gradient-shapes",
    "gradient-dtypes",
    "gradient-devices",
    "finite",
    "gradient-values",
    "input-mutation",
    "hidden-state",
)
PARAMS = ("W", "b")
# A trusted computation in the implementation's dtype shows how much round-off is fair; a correct
# implementation written differently may be somewhat worse, so it gets this multiple of it.
NOISE_MARGIN = 10.0


@dataclass
class Failure:
    """One failed check: what, where (layer, parameter, worst entry) and by how much."""

    check: str
    kind: str
    message: str
    layer: int | None = None
    param: str | None = None
    expected: Any = None
    got: Any = None
    mismatch: Mismatch | None = None
    fd_max_abs_error: float | None = None
    case: CaseSpec | None = None
    diagnosis: str | None = None
    hint: str | None = None
    confidence: float | None = None
    evidence: dict = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        """Failures with the same key are the same problem seen in different cases."""
        return (self.check, self.layer, self.param, self.kind)


@dataclass
class Truth:
    """What the oracles say about one case (float64, CPU), and how much round-off the dtype allows."""

    autograd: Gradients
    fd: Gradients
    reference: Gradients | None
    slack: dict[tuple[int | None, str], float]  # (layer, param) or (None, "loss") -> round-off a correct run may show
    disagreements: dict[
        tuple, str
    ]  # (layer, param) -> why the oracles disagree there (nothing judged); (layer, param, "kink") -> entries left out
    spec: Spec = SEED  # the specification these truths follow


@dataclass
class CaseResult:
    """Everything one call showed: failures, which checks ran, what came back (float64 copies)."""

    case: CaseSpec
    failures: list[Failure] = field(default_factory=list)
    evaluated: set[str] = field(default_factory=set)
    truth: Truth | None = None
    returned: dict[tuple[int | None, str], Tensor] = field(default_factory=dict)
    errors: dict[tuple[int, str], tuple[float, float]] = field(default_factory=dict)  # max abs error vs (autograd, FD)
    output: str = ""

    def fail(self, check: str, kind: str, message: str, **details: Any) -> None:
        self.failures.append(Failure(check, kind, message, case=self.case, **details))


def _fd_disagreements(ad: Gradients, fd: Gradients) -> dict[tuple, str]:
    """Where autograd and finite differences disagree beyond the FD's own error: a harness or
    precision problem, never the student's.

    Entries whose finite difference straddles a ReLU kink are left out (the FD is meaningless
    there) and noted under the key ``(layer, param, "kink")``, which, unlike ``(layer, param)``,
    blocks only those entries.
    """
    notes: dict[tuple, str] = {}
    for layer in range(len(ad.W)):
        for param in PARAMS:
            truth = ad.param(layer, param)
            allowed = 10 * fd.noise(layer, param) + 1e-8 * float(truth.abs().max())
            kinks = fd.kinks(layer, param)
            if kinks is not None and bool(kinks.any()):
                allowed = allowed.masked_fill(kinks, math.inf)
                notes[(layer, param, "kink")] = (
                    f"{int(kinks.sum())} of {kinks.numel()} entries of {param}[{layer}] not judged: their finite difference straddles a ReLU kink"
                )
            bad = compare(fd.param(layer, param), truth, allowed)
            if bad:
                notes[(layer, param)] = (
                    f"autograd and finite differences disagree on {param}[{layer}] ({describe_mismatch(bad)})"
                )
    return notes


def _reference_disagreements(ad: Gradients, ref: Gradients, ref_slack: dict) -> dict[tuple, str]:
    """Where the hand-written reference and autograd disagree.

    The reference computes σ′ as a(1 − a), like most students, so it may differ from the precise
    autograd oracle by float64 round-off (``ref_slack``), and no more.
    """
    notes: dict[tuple, str] = {}
    for layer in range(len(ad.W)):
        for param in PARAMS:
            truth = ad.param(layer, param)
            if compare(
                ref.param(layer, param),
                truth,
                allowed_error(truth, TOLERANCES[torch.float64], ref_slack[(layer, param)]),
            ):
                notes[(layer, param)] = f"autograd and the reference implementation disagree on {param}[{layer}]"
    return notes


def _round_off_slack(
    spec: Spec, case: Case, exact: Gradients, dtype: torch.dtype
) -> dict[tuple[int | None, str], float]:
    """How far a correct computation in ``dtype`` may land from the exact gradients, per tensor.

    Two parts: ``NOISE_MARGIN`` times the error that plain autograd in ``dtype`` actually makes
    (σ′ as a(1 − a) rounds to zero where sigmoids saturate, float32 accumulates round-off), and
    a floor of a few ε·(1 + |L|), below which a gradient entry is indistinguishable from zero
    at that precision. Keys are (layer, "W" | "b") and (None, "loss").
    """
    low = [t.detach().cpu().to(dtype) for t in (case.x, case.y)]
    W = [w.detach().cpu().to(dtype).requires_grad_(True) for w in case.W]
    b = [v.detach().cpu().to(dtype).requires_grad_(True) for v in case.b]
    with torch.enable_grad():
        loss = spec.loss(*low, W, b)
        grads = torch.autograd.grad(loss, [*W, *b])
    floor = 4 * torch.finfo(dtype).eps * (1.0 + abs(float(exact.loss)))
    slack = {(None, "loss"): NOISE_MARGIN * abs(float(loss.detach()) - float(exact.loss)) + floor}
    for layer in range(len(W)):
        for param, grad, true in (("W", grads[layer], exact.W[layer]), ("b", grads[len(W) + layer], exact.b[layer])):
            slack[(layer, param)] = NOISE_MARGIN * float((grad.double() - true).abs().max()) + floor
    return slack


def compute_truth(spec: Spec, case: Case) -> Truth:
    """Run all three oracles on a case, note where they disagree, and size the round-off slack.

    Finite differences first come without their truncation estimate (half the work): if they
    agree with autograd within the round-off floor alone, they agree within the full bound too.
    Only where they don't is the full estimate computed, to judge fairly.
    """
    ad = autograd_oracle(spec, case)
    fd = finite_difference_oracle(spec, case, error_bound=False)
    notes = _fd_disagreements(ad, fd)
    if any(len(key) == 2 for key in notes):
        fd = finite_difference_oracle(spec, case)
        notes = _fd_disagreements(ad, fd)
    ref = reference_oracle(case, spec)
    dtype = parse_dtype(case.spec.dtype)
    slack = _round_off_slack(spec, case, ad, dtype)
    if ref is not None:
        ref_slack = slack if dtype == torch.float64 else _round_off_slack(spec, case, ad, torch.float64)
        notes = {**_reference_disagreements(ad, ref, ref_slack), **notes}
    return Truth(ad, fd, ref, slack, notes, spec)


def _check_loss(result: CaseResult, loss: Any, truth: Truth, dtype: torch.dtype) -> None:
    result.evaluated.add("loss-value")
    got = loss_value(loss)
    expected = float(truth.autograd.loss)
    if got is None:
        result.fail(
            "loss-value",
            "type",
            f"the loss is a {type(loss).__name__}; expected a number or a float tensor",
            param="loss",
        )
        return
    allowed = TOLERANCES[dtype].rtol * abs(expected) + truth.slack[(None, "loss")]
    if not abs(got - expected) <= allowed:
        result.fail(
            "loss-value",
            "value",
            f"loss is {got:.6g}, expected {expected:.6g} (error {abs(got - expected):.3g}, up to {allowed:.3g} allowed)",
            param="loss",
            expected=expected,
            got=got,
            evidence={"ratio": got / expected if expected else math.nan},
        )


def _gradient_lists(result: CaseResult, returned: Sequence[Any], depth: int) -> dict[str, Sequence[Any]]:
    """The W and b gradient lists that have the right length; failures for the others."""
    result.evaluated.add("gradient-count")
    usable = {}
    for param, grads in zip(PARAMS, returned[1:]):
        if not isinstance(grads, (list, tuple)):
            result.fail(
                "gradient-count",
                "type",
                f"{param}_grads is a {type(grads).__name__}; expected a list of {depth} tensors",
                param=param,
            )
        elif len(grads) != depth:
            result.fail(
                "gradient-count",
                "count",
                f"{param}_grads has {len(grads)} entries; the network has {depth} layers",
                param=param,
                expected=depth,
                got=len(grads),
            )
        else:
            usable[param] = grads
    return usable


def _check_tensor(
    result: CaseResult, case: Case, truth: Truth, layer: int, param: str, grad: Any, judge: bool = True
) -> None:
    """Type, shape, dtype, device, finiteness and (if ``judge``) values of one returned gradient."""
    where = {"layer": layer, "param": param}
    name = f"{param}_grads[{layer}]"
    target = (case.W if param == "W" else case.b)[layer]
    result.evaluated.add("gradient-types")
    if not isinstance(grad, Tensor):
        result.fail(
            "gradient-types",
            "missing" if grad is None else "type",
            f"{name} is {type(grad).__name__}; expected a torch.Tensor",
            **where,
            got=type(grad).__name__,
        )
        return
    if type(grad) is not Tensor:
        result.fail(
            "gradient-types",
            "subclass",
            f"{name} is a {type(grad).__name__}, a tensor subclass; expected a plain torch.Tensor",
            **where,
            got=type(grad).__name__,
        )
        return
    result.evaluated.add("gradient-shapes")
    if grad.shape != target.shape:
        result.fail(
            "gradient-shapes",
            "shape",
            f"{name} has shape {list(grad.shape)}; {param}[{layer}] has shape {list(target.shape)}",
            **where,
            expected=list(target.shape),
            got=list(grad.shape),
        )
        return
    result.evaluated.update({"gradient-dtypes", "gradient-devices", "finite"})
    if grad.dtype != target.dtype:
        result.fail(
            "gradient-dtypes",
            "dtype",
            f"{name} is {grad.dtype}; {param}[{layer}] is {target.dtype}",
            **where,
            expected=str(target.dtype),
            got=str(grad.dtype),
        )
    if grad.device != target.device:
        result.fail(
            "gradient-devices",
            "device",
            f"{name} is on {grad.device}; {param}[{layer}] is on {target.device}",
            **where,
            expected=str(target.device),
            got=str(grad.device),
        )
    if not grad.is_floating_point():
        result.fail(
            "gradient-dtypes",
            "dtype",
            f"{name} has integer dtype {grad.dtype}",
            **where,
            expected=str(target.dtype),
            got=str(grad.dtype),
        )
        return
    got = grad.detach().to(device="cpu", dtype=torch.float64, copy=True)  # a copy: the caller may reuse its buffers
    result.returned[(layer, param)] = got
    if not bool(torch.isfinite(got).all()):
        kind = "nan" if bool(torch.isnan(got).any()) else "inf"
        index = tuple(int(i) for i in (~torch.isfinite(got)).nonzero()[0])
        result.fail(
            "finite",
            kind,
            f"{name} has {int((~torch.isfinite(got)).sum())} non-finite entries, first at index {index}; the true gradient is finite",
            **where,
        )
        return
    if (layer, param) in truth.disagreements or not judge:
        return  # inconclusive: the report lists truth.disagreements, and nobody is blamed
    result.evaluated.add("gradient-values")
    expected = truth.autograd.param(layer, param)
    allowed = allowed_error(expected, TOLERANCES[target.dtype], truth.slack[(layer, param)])
    kinks = truth.fd.kinks(layer, param)
    if kinks is not None:  # a finite difference across a kink can't confirm anything: not judged
        allowed = allowed.masked_fill(kinks, math.inf)
    mismatch = compare(got, expected, allowed)
    fd_error = float((got - truth.fd.param(layer, param)).abs().max())
    result.errors[(layer, param)] = (float((got - expected).abs().max()), fd_error)
    if mismatch:
        result.fail(
            "gradient-values",
            "value",
            f"{name}: {describe_mismatch(mismatch)}",
            **where,
            mismatch=mismatch,
            fd_max_abs_error=fd_error,
        )


def _check_mutation(result: CaseResult, case: Case, called_with: Case) -> None:
    result.evaluated.add("input-mutation")
    for (name, before), after in zip(case.tensors().items(), called_with.tensors().values()):
        if after.shape != before.shape or not torch.equal(after, before):
            layer = int(name[2:-1]) if name[0] in "Wb" else None
            param = name[0] if name[0] in "Wb" else None
            result.fail(
                "input-mutation",
                "mutation",
                f"the call modified its input {name}",
                layer=layer,
                param=param,
                evidence={"tensor": name},
            )


def check_case(
    fn: Callable[..., Any], case: Case, truth: Truth, *, timeout: float | None = DEFAULT_TIMEOUT, mode: str = "spec"
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
        result.fail(
            "call",
            "timeout" if outcome.timed_out else "exception",
            outcome.describe_error(),
            evidence={"where": outcome.where},
        )
        return result, outcome
    result.evaluated.add("returns")
    value = outcome.value
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        shape = (
            f"a {len(value)}-{type(value).__name__}"
            if isinstance(value, (tuple, list))
            else repr(value)
            if value is None
            else f"a {type(value).__name__}"
        )
        result.fail("returns", "type", f"returned {shape}; expected a 3-tuple (loss, W_grads, b_grads)")
        return result, outcome
    dtype = parse_dtype(case.spec.dtype)
    if mode != "self":
        _check_loss(result, value[0], truth, dtype)
    for param, grads in _gradient_lists(result, value, len(case.W)).items():
        for layer, grad in enumerate(grads):
            _check_tensor(result, case, truth, layer, param, grad, judge=mode != "self")
    _check_mutation(result, case, called_with)
    if mode != "spec":
        from .selfconsistency import check_self_consistency

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
        again.failures = [
            Failure(
                "hidden-state",
                "state",
                f"calling again with the same inputs changed {', '.join(changed)}: the result depends on earlier calls",
                case=again.case,
                evidence={"changed": changed},
            )
        ]


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
    mode: str = "spec",
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
            message = f"fails after other calls but passes as the first call of a fresh copy: the result depends on earlier calls (in sequence: {first.message})"
            result.failures = [
                Failure("hidden-state", "state", message, case=result.case, evidence={"in_sequence": first.message})
            ]


def check_cases(
    fn: Callable[..., Any],
    specs: Sequence[CaseSpec],
    *,
    spec: Spec = SEED,
    timeout: float | None = DEFAULT_TIMEOUT,
    fresh: Callable[[], Callable[..., Any]] | None = None,
    on_case: Callable[[CaseResult], None] | None = None,
    mode: str = "spec",
) -> Run:
    """Check ``fn`` on every case, then look for hidden state.

    Hidden state shows two ways: the first case, repeated at the end, gives other gradients; or
    (when ``fresh`` can load a new copy of the implementation) a failing case passes as the first
    call of a fresh copy. After a timeout the implementation is not called again: a hang costs
    one time limit, not one per case.
    """
    if mode not in ("spec", "self", "both"):
        raise ValueError(f"mode={mode!r} is not one of spec, self, both")
    start = time.perf_counter()
    results: list[CaseResult] = []
    skipped: list[CaseSpec] = []
    for case_spec in specs:
        if any(f.kind == "timeout" for r in results for f in r.failures):
            skipped.append(case_spec)
            continue
        case = make_case(case_spec, spec)
        result, _ = check_case(fn, case, compute_truth(spec, case), timeout=timeout, mode=mode)
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
