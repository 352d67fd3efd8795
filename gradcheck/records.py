"""Failure and diagnosis records, kept as data, and the one place that turns them into text.

A check writes a :class:`Failure` with the facts it found (what was expected, what came back,
by how much, where) and no prose. The diagnosis adds a :class:`Diagnosis` per folded failure,
apart from it. Every face (the CLI's text report, the grader's feedback, the pytest plugin's
messages, the JSON) builds its text from these records with the small pure functions below, so
one failure reads the same way everywhere, in the words of the CLI's report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .cases import CaseSpec
from .compare import Mismatch, describe_mismatch
from .vocabulary import Check, Kind

__all__ = [
    "Diagnosis",
    "EvidenceValue",
    "Failure",
    "FailureKey",
    "describe_case",
    "describe_failure",
    "echo_line",
    "explained_elsewhere",
    "failure_facts",
    "failure_lines",
    "gradient_name",
    "headline",
    "location",
]

FailureKey = tuple[Check, int | None, str | None, Kind]  # (check, layer, param, kind)
EvidenceValue = int | float | str | list | None  # what a JSON ``evidence`` entry may hold


@dataclass(frozen=True)
class Failure:
    """One failed check: what, where (layer, parameter, entry), and the numbers behind it.

    Only ``check`` and ``kind`` are always set; each check fills the fields its message needs
    (see :func:`describe_failure`). ``param`` is ``"W"``, ``"b"``, ``"loss"``, or an output of
    the one-layer checker (``"delta"``).
    """

    check: Check
    kind: Kind
    layer: int | None = None
    param: str | None = None
    expected: Any = None  # the true value, shape, dtype, device or count (a float, list or str)
    got: Any = None  # what came back, in the same form (for a wrong type, the type's name)
    allowed: float | None = None  # the error a correct implementation may show (loss, probes)
    mismatch: Mismatch | None = None  # a wrong tensor, entry by entry
    fd_max_abs_error: float | None = None  # the same tensor against finite differences
    case: CaseSpec | None = None
    error: str | None = None  # the call's error as it was raised; why the own loss can't be differenced
    where: str | None = None  # the implementation's own line that raised
    count: int | None = None  # non-finite entries; the length of a returned sequence
    index: tuple[int, ...] | None = None  # the first non-finite entry
    tensors: tuple[str, ...] = ()  # the input modified, or the gradients a repeated call changed
    probe: str | None = None  # self-consistency: the direction or entry the loss was differenced along
    in_sequence: Failure | None = None  # what was seen in sequence (hidden state) or on the GPU (cpu-cuda)
    reproduce_options: str = ""  # CLI options beyond the report's that reproduce it (a case at another λ)

    @property
    def key(self) -> FailureKey:
        """Failures with the same key are the same problem seen in different cases."""
        return (self.check, self.layer, self.param, self.kind)


@dataclass(frozen=True)
class Diagnosis:
    """The likely bug behind one folded failure: its id, how sure, what to change, and why.

    A failure that only inherits another's error names that root in ``consequence_of`` (as the
    report labels it: ``W[2]``, ``loss``, ``hidden-state``); one that repeats a bug already
    reported elsewhere names that sighting in ``same_bug_as``.
    """

    id: str
    confidence: float
    hint: str
    detail: str = ""
    consequence_of: str | None = None
    same_bug_as: str | None = None
    evidence: dict[str, EvidenceValue] = field(default_factory=dict)  # JSON-friendly numbers and patterns


# -- a failure's message ------------------------------------------------------------------------


def gradient_name(f: Failure) -> str:
    """``W_grads[2]``: how the implementation's return value names the tensor."""
    return f"{f.param}_grads[{f.layer}]"


def _tensor(f: Failure) -> str:
    """``W[2]``: how the network names the parameter."""
    return f"{f.param}[{f.layer}]"


def _call_error(f: Failure) -> str:
    return f"{f.error} (at {f.where})" if f.where else str(f.error)


def _returned(f: Failure) -> str:
    if f.count is not None:
        return f"a {f.count}-{f.got}"
    return "None" if f.got == "NoneType" else f"a {f.got}"


def _loss_message(f: Failure) -> str:
    if f.kind == "type":
        return f"the loss is a {f.got}; expected a number or a float tensor"
    if f.kind == "self-consistency":
        return f"cannot differentiate the implementation's own loss: {f.error}"
    got, expected = float(f.got), float(f.expected)
    return (
        f"loss is {got:.6g}, expected {expected:.6g} (error {abs(got - expected):.3g}, up to {f.allowed:.3g} allowed)"
    )


def _gradient_count(f: Failure) -> str:
    if f.kind == "type":
        return f"{f.param}_grads is a {f.got}; expected a list of {f.expected} tensors"
    return f"{f.param}_grads has {f.got} entries; the network has {f.expected} layers"


def _gradient_types(f: Failure) -> str:
    if f.kind == "subclass":
        return f"{gradient_name(f)} is a {f.got}, a tensor subclass; expected a plain torch.Tensor"
    return f"{gradient_name(f)} is {f.got}; expected a torch.Tensor"


def _gradient_values(f: Failure) -> str:
    if f.kind == "self-consistency":
        at_h, predicted = float(f.expected), float(f.got)
        return (
            f"{gradient_name(f)} is not the derivative of the implementation's own loss: along {f.probe} the loss "
            f"changes at {at_h:.6g} per unit step, the returned gradient predicts {predicted:.6g} "
            f"(error {abs(at_h - predicted):.3g}, up to {f.allowed:.3g} allowed)"
        )
    return f"{gradient_name(f)}: {describe_mismatch(f.mismatch)}" if f.mismatch else gradient_name(f)


def _hidden_state(f: Failure) -> str:
    if f.in_sequence is not None:
        return (
            "fails after earlier calls but passes as the first call of a fresh copy: the result depends on "
            f"earlier calls (in sequence: {describe_failure(f.in_sequence)})"
        )
    return f"calling again with the same inputs changed {', '.join(f.tensors)}: the result depends on earlier calls"


def _cpu_cuda(f: Failure) -> str:
    device = f.case.device if f.case else "the GPU"
    if f.in_sequence is not None:
        return f"fails on {device} but passes on cpu: {describe_failure(f.in_sequence)}"
    return f"{gradient_name(f)} on {device} differs from cpu: {describe_mismatch(f.mismatch)}" if f.mismatch else ""


# the one-layer checker's outputs: a layer backward's, and an autograd.Function op's
_LAYER_OUTPUTS = {
    "delta": "propagated δ (da_prev)",
    "W": "dW",
    "b": "db",
    "input": "grad_input",
    "output": "the forward's output",
}


def _layer_gradient(f: Failure) -> str:
    name = _LAYER_OUTPUTS.get(f.param or "", str(f.param))
    if f.kind == "exception":
        return f"{'the op' if f.layer == 0 else 'backward'} raised {_call_error(f)}"
    if f.kind == "missing":
        return f"{name}: None (torch's engine got no gradient for this input from backward)"
    if f.kind == "mutation":
        return f"the op modified its input {', '.join(f.tensors)}"
    if f.kind == "return-shape":
        return f"backward returned {f.got}, not (da_prev, dW, db)"
    if f.kind == "type":
        return f"{name}: got {f.got}, not an array"
    if f.kind == "shape":
        return f"{name}: shape {f.got}, expected {f.expected}"
    return f"{name}: {describe_mismatch(f.mismatch)}" if f.mismatch else name


_MESSAGES: dict[str, Callable[[Failure], str]] = {
    "call": _call_error,
    "returns": lambda f: f"returned {_returned(f)}; expected a 3-tuple (loss, W_grads, b_grads)",
    "loss-value": _loss_message,
    "gradient-count": _gradient_count,
    "gradient-types": _gradient_types,
    "gradient-shapes": lambda f: f"{gradient_name(f)} has shape {f.got}; {_tensor(f)} has shape {f.expected}",
    "gradient-dtypes": lambda f: f"{gradient_name(f)} is {f.got}; {_tensor(f)} is {f.expected}",
    "gradient-devices": lambda f: f"{gradient_name(f)} is on {f.got}; {_tensor(f)} is on {f.expected}",
    "finite": lambda f: (
        f"{gradient_name(f)} has {f.count} non-finite entries, first at index {f.index}; the true gradient is finite"
    ),
    "gradient-values": _gradient_values,
    "input-mutation": lambda f: f"the call modified its input {', '.join(f.tensors)}",
    "hidden-state": _hidden_state,
    "finite-differences": lambda f: (
        f"{gradient_name(f)} vs finite differences: {describe_mismatch(f.mismatch)}" if f.mismatch else ""
    ),
    "cpu-cuda": _cpu_cuda,
    "layer-gradient": _layer_gradient,
}


def describe_failure(f: Failure) -> str:
    """What went wrong, in one line: the failure's message, built from its fields."""
    return _MESSAGES[f.check](f)


def failure_facts(f: Failure) -> dict[str, EvidenceValue]:
    """The failure's own facts that its message doesn't spell as JSON fields (the ``evidence``)."""
    facts: dict[str, EvidenceValue] = {}
    if f.where:
        facts["where"] = f.where
    if f.check == "input-mutation" and f.tensors:
        facts["tensor"] = f.tensors[0]
    if f.check == "hidden-state" and f.tensors:
        facts["changed"] = list(f.tensors)
    if f.in_sequence is not None:
        facts["in_sequence"] = describe_failure(f.in_sequence)
    if f.kind == "self-consistency":
        facts["mode"] = "self"
    if f.probe:
        facts["probe"] = f.probe
    if f.check in ("loss-value", "gradient-values") and isinstance(f.got, float) and isinstance(f.expected, float):
        facts["ratio"] = f.got / f.expected if f.expected else None
    if f.reproduce_options:
        facts["reproduce_options"] = f.reproduce_options
    return facts


# -- a failure in a report ----------------------------------------------------------------------


def location(f: Failure) -> str:
    """`` layer 2 W``, `` loss`` or nothing (a whole-call failure): what the headline points at."""
    if f.layer is None:
        return f" {f.param}" if f.param else ""
    return f" layer {f.layer}" + (f" {f.param}" if f.param else "")


def headline(f: Failure) -> str:
    """``gradient-values layer 0 W: W_grads[0]: 3 / 12 entries ...``: the check, where, what."""
    return f"{f.check}{location(f)}: {describe_failure(f)}"


def describe_case(case: CaseSpec) -> str:
    """``widths [3, 1], batch 1, float32, cpu, normal``: the case, as the reports name it."""
    leading = f", leading {list(case.leading)}" if case.leading else ""
    return f"widths {list(case.widths)}, batch {case.batch}{leading}, {case.dtype}, {case.device}, {case.regime}"


def failure_lines(
    f: Failure, diagnosis: Diagnosis | None, reproduce: str, *, search_seed: int | None = None
) -> list[str]:
    """A failure in full: what, the likely bug, the smallest case and how to reproduce it.

    The first line is the :func:`headline`; the others are indented under it. ``search_seed``
    (the pytest plugin's) adds the seed of the hypothesis search that found the case.
    """
    lines = [headline(f)]
    if diagnosis is not None:
        lines.append(f"  likely bug: {diagnosis.id} ({diagnosis.confidence:.0%}): {diagnosis.hint}".rstrip(": "))
    if f.case is not None:
        lines.append(f"  smallest case: {describe_case(f.case)}")
    if search_seed is not None:
        lines.append(f"  search seed: {search_seed}")
    if reproduce:
        lines.append(f"  reproduce: {reproduce}")
    return lines


def explained_elsewhere(diagnosis: Diagnosis | None) -> str | None:
    """Why a failure is not a bug of its own (the diagnosis's verdict), or ``None`` if it is one."""
    if diagnosis is None:
        return None
    if diagnosis.consequence_of:
        return f"a consequence of {diagnosis.consequence_of}"
    if diagnosis.same_bug_as:
        return f"the same bug as {diagnosis.same_bug_as}"
    return None


def echo_line(f: Failure, diagnosis: Diagnosis) -> str:
    """One short line for a failure another one explains: where it is and which one explains it."""
    widths = list(f.case.widths) if f.case else "-"
    return f"{f.check}{location(f)} in widths {widths}: {explained_elsewhere(diagnosis)}"
