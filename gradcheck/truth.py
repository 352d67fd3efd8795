"""Oracle arbitration: what the three oracles agree the truth of one case is, and how much a
correct implementation in the case's dtype may miss it by.

The autograd oracle is the truth wherever the finite-difference oracle (and, where there is one,
the hand-written reference) agree with it. Where they disagree, the harness cannot tell what is
right: those tensors are *inconclusive* and nobody is blamed. The round-off slack sizes what a
trusted computation in the implementation's own dtype actually gets wrong, so a float32
implementation is judged against what float32 can do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .cases import Case, parse_dtype
from .compare import TOLERANCES, allowed_error, compare, describe_mismatch
from .fdmode import chosen_fd, sampled_oracle
from .oracles import Gradients, autograd_oracle, finite_difference_oracle, reference_oracle
from .spec import SEED, Spec
from .vocabulary import PARAMS

__all__ = [
    "FD_MARGIN",
    "FD_RELATIVE_FLOOR",
    "NOISE_MARGIN",
    "NoteKey",
    "SlackKey",
    "Truth",
    "compute_truth",
    "fd_allowance",
    "fd_disagreements",
    "reference_disagreements",
    "round_off_slack",
]

# A trusted computation in the implementation's dtype shows how much round-off is fair; a correct
# implementation written differently may be somewhat worse, so it gets this multiple of it.
NOISE_MARGIN = 10.0
# Finite differences come with a per-entry error estimate; autograd and finite differences agree
# when they are within this multiple of it, plus this fraction of the tensor's largest entry.
FD_MARGIN = 10.0
FD_RELATIVE_FLOOR = 1e-8

SlackKey = tuple[int | None, str]  # (layer, "W" | "b"), or (None, "loss")
# (layer, param): the oracles disagree on that tensor (nothing judged); (layer, param, "kink")
# or (layer, param, "self-kink"): some entries or probes were left out.
NoteKey = tuple[int, str] | tuple[int, str, str]


@dataclass
class Truth:
    """What the oracles say about one case (float64, CPU), and how much round-off the dtype allows."""

    autograd: Gradients
    fd: Gradients
    reference: Gradients | None
    slack: dict[SlackKey, float]  # round-off a correct run may show, per tensor and for the loss
    disagreements: dict[NoteKey, str]  # why the oracles disagree there, or what was left out
    spec: Spec = SEED  # the specification these truths follow
    fd_mode: str = "full"  # "full": every parameter differenced; "sampled": seeded probes (gradcheck.fdmode)
    probes: int = 0  # sampled mode: how many probes confirmed autograd


def fd_allowance(ad: Gradients, fd: Gradients, layer: int, param: str) -> Tensor:
    """How far apart autograd and finite differences may be on one tensor, per entry."""
    truth = ad.param(layer, param)
    noise = fd.noise(layer, param)
    if noise is None:  # an oracle without an error estimate: the relative floor alone
        noise = torch.zeros_like(truth)
    return FD_MARGIN * noise + FD_RELATIVE_FLOOR * float(truth.abs().max())


def fd_disagreements(ad: Gradients, fd: Gradients) -> dict[NoteKey, str]:
    """Where autograd and finite differences disagree beyond the FD's own error: a harness or
    precision problem, never the student's.

    Entries whose finite difference straddles a ReLU kink are left out (the FD is meaningless
    there) and noted under the key ``(layer, param, "kink")``, which, unlike ``(layer, param)``,
    blocks only those entries.
    """
    notes: dict[NoteKey, str] = {}
    for layer in range(len(ad.W)):
        for param in PARAMS:
            allowed = fd_allowance(ad, fd, layer, param)
            kinks = fd.kinks(layer, param)
            if kinks is not None and bool(kinks.any()):
                allowed = allowed.masked_fill(kinks, math.inf)
                notes[(layer, param, "kink")] = (
                    f"{int(kinks.sum())} of {kinks.numel()} entries of {param}[{layer}] not judged: "
                    "their finite difference straddles a ReLU kink"
                )
            bad = compare(fd.param(layer, param), ad.param(layer, param), allowed)
            if bad:
                notes[(layer, param)] = (
                    f"autograd and finite differences disagree on {param}[{layer}] ({describe_mismatch(bad)})"
                )
    return notes


def reference_disagreements(ad: Gradients, ref: Gradients, ref_slack: dict[SlackKey, float]) -> dict[NoteKey, str]:
    """Where the hand-written reference and autograd disagree.

    The reference computes σ′ as a(1 − a), like most students, so it may differ from the precise
    autograd oracle by float64 round-off (``ref_slack``), and no more.
    """
    notes: dict[NoteKey, str] = {}
    for layer in range(len(ad.W)):
        for param in PARAMS:
            truth = ad.param(layer, param)
            allowed = allowed_error(truth, TOLERANCES[torch.float64], ref_slack[(layer, param)])
            if compare(ref.param(layer, param), truth, allowed):
                notes[(layer, param)] = f"autograd and the reference implementation disagree on {param}[{layer}]"
    return notes


def round_off_slack(spec: Spec, case: Case, exact: Gradients, dtype: torch.dtype) -> dict[SlackKey, float]:
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
        loss = spec.loss(low[0], low[1], W, b)
        grads = torch.autograd.grad(loss, [*W, *b])
    floor = 4 * torch.finfo(dtype).eps * (1.0 + abs(float(exact.loss)))
    slack: dict[SlackKey, float] = {
        (None, "loss"): NOISE_MARGIN * abs(float(loss.detach()) - float(exact.loss)) + floor
    }
    for layer in range(len(W)):
        for param, grad, true in (("W", grads[layer], exact.W[layer]), ("b", grads[len(W) + layer], exact.b[layer])):
            slack[(layer, param)] = NOISE_MARGIN * float((grad.double() - true).abs().max()) + floor
    return slack


def compute_truth(spec: Spec, case: Case, *, fd_mode: str = "auto", memory_bytes: int | None = None) -> Truth:
    """Run all three oracles on a case, note where they disagree, and size the round-off slack.

    ``fd_mode`` (:func:`gradcheck.fdmode.chosen_fd`) says whether every parameter is
    differenced or a seeded sample of probes confirms autograd; ``memory_bytes`` bounds the full
    differences' working set. Full finite differences first come without their truncation
    estimate (half the work): if they agree with autograd within the round-off floor alone,
    they agree within the full bound too. Only where they don't is the full estimate computed.
    """
    ad = autograd_oracle(spec, case)
    mode, probes = chosen_fd(fd_mode, case), 0
    if mode == "sampled":
        fd, notes, probes = sampled_oracle(spec, case, ad)
    else:
        fd = finite_difference_oracle(spec, case, error_bound=False, memory_bytes=memory_bytes)
        notes = fd_disagreements(ad, fd)
        if any(len(key) == 2 for key in notes):
            first = fd
            fd = finite_difference_oracle(spec, case, memory_bytes=memory_bytes)
            fd.evaluations += first.evaluations
            notes = fd_disagreements(ad, fd)
    ref = reference_oracle(case, spec)
    dtype = parse_dtype(case.spec.dtype)
    slack = round_off_slack(spec, case, ad, dtype)
    if ref is not None:
        ref_slack = slack if dtype == torch.float64 else round_off_slack(spec, case, ad, torch.float64)
        notes = {**reference_disagreements(ad, ref, ref_slack), **notes}
    return Truth(ad, fd, ref, slack, notes, spec, mode, probes)
