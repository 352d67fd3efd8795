"""Self-consistency: are the gradients the derivative of the loss the implementation itself returns?

A fixed specification fails correct code that optimises a slightly different loss (about half
of the correct CS231n solutions surveyed regularise with 0.5·reg, or include the biases). This
mode asks a weaker, specification-free question: differentiate the implementation's *own* loss
by central differences through its *own* forward pass, and compare with the gradients it
returned. Calling the implementation once per parameter would be slow, so each parameter tensor
is probed along a few seeded random unit directions d (the loss must change at ⟨g, d⟩ per unit
step) and at a few seeded random coordinates (which catch a wrong entry a direction dilutes).

Each probe costs four calls (steps ±h, ±2h); their Richardson gap estimates the truncation error,
so a probe whose step straddles a ReLU kink in the implementation gets a large error bound and
is not blamed. Only float64 cases are probed: a float32 loss is too coarse to difference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, cast

import torch
from torch import Tensor

from .cases import Case
from .compare import entry_index
from .invoke import call_contained
from .lossvalue import loss_value
from .truth import NOISE_MARGIN
from .vocabulary import Kind

__all__ = ["COORDINATES", "DIRECTIONS", "KIND", "RTOL", "STEP", "check_self_consistency"]

KIND: Kind = "self-consistency"  # the ``kind`` of a failure judged in self-consistency mode

DIRECTIONS = 2  # random unit directions per parameter tensor
COORDINATES = 2  # random single entries per parameter tensor
STEP = 1e-5  # as the finite-difference oracle's: truncation and round-off both ~1e-11
RTOL = 1e-6  # relative to ‖g‖: the pass mark of the survey (relerr below 1e-6)


def _probes(
    case: Case, layer: int, param: str, shape: torch.Size, directions: int, coordinates: int
) -> list[tuple[str, Tensor]]:
    """Seeded unit directions and coordinates for one parameter tensor."""
    key = f"{case.spec.seed}|{case.spec.widths}|{case.spec.batch}|{layer}|{param}".encode()
    gen = torch.Generator().manual_seed(int.from_bytes(hashlib.sha256(key).digest()[:8], "little"))
    probes = []
    for k in range(directions):
        d = torch.randn(shape, generator=gen, dtype=torch.float64)
        probes.append((f"random direction {k}", d / d.norm()))
    numel = int(torch.tensor(shape).prod())
    for index in torch.randperm(numel, generator=gen)[:coordinates].tolist():
        d = torch.zeros(numel, dtype=torch.float64)
        d[index] = 1.0
        where = entry_index(index, shape)
        probes.append((f"entry {where}", d.view(shape)))
    return probes


def _own_loss(
    fn: Callable[..., Any], case: Case, layer: int, param: str, shift: Tensor, timeout: float | None
) -> float | str:
    """The implementation's loss with one parameter tensor moved by ``shift``; a message if none."""
    moved = case.fresh_copy()
    target = (moved.W if param == "W" else moved.b)[layer]
    target += shift.to(device=target.device, dtype=target.dtype)
    outcome = call_contained(fn, moved.x, moved.y, moved.W, moved.b, timeout=timeout)
    if not outcome.ok:
        return f"calling it with {param}[{layer}] moved failed: {outcome.describe_error()}"
    value = outcome.value
    loss = loss_value(value[0]) if isinstance(value, (tuple, list)) and value else None
    return "it returns no numeric loss to differentiate" if loss is None else loss


def check_self_consistency(
    fn: Callable[..., Any],
    case: Case,
    result: Any,
    loss: Any,
    *,
    timeout: float | None = None,
    directions: int = DIRECTIONS,
    coordinates: int = COORDINATES,
    step: float = STEP,
    biases: bool = True,
) -> None:
    """Probe every returned gradient of ``result`` (a :class:`~gradcheck.checker.CaseResult`)
    against the implementation's own loss (``loss``, what the call on ``case`` returned); at most
    one failure per tensor. ``biases=False`` (a network without biases) leaves b alone: the
    implementation ignores it, so its own loss can't move with it.

    Failures are ``gradient-values`` failures of kind ``"self-consistency"`` (the specification's
    are of kind ``"value"``): same check, another judge.
    """
    if case.spec.dtype != "float64":
        return
    base = loss_value(loss)
    if base is None:
        result.fail(
            "loss-value",
            KIND,
            param="loss",
            error=f"the loss is a {type(loss).__name__}: it returns no numeric loss to differentiate",
        )
        return
    result.evaluated.add("gradient-values")
    for (layer, param), g in sorted(result.returned.items(), key=lambda kv: (-kv[0][0], kv[0][1])):
        if not bool(torch.isfinite(g).all()) or (param == "b" and not biases):
            continue
        scale = float(g.norm())
        kinked = 0
        for what, d in _probes(case, layer, param, g.shape, directions, coordinates):
            losses = [_own_loss(fn, case, layer, param, s * step * d, timeout) for s in (2, 1, -1, -2)]
            problem = next((x for x in losses if isinstance(x, str)), None)
            if problem:
                result.fail("loss-value", KIND, param="loss", error=problem)
                return
            verdict = _judge(cast("list[float]", losses), base, float((g * d).sum()), scale, step)
            if verdict == "kink":
                kinked += 1
            elif isinstance(verdict, tuple):
                at_h, predicted, allowed = verdict
                result.fail(
                    "gradient-values",
                    KIND,
                    layer=layer,
                    param=param,
                    expected=at_h,
                    got=predicted,
                    allowed=allowed,
                    probe=what,
                )
                break
        if kinked and result.truth is not None:
            result.truth.disagreements[(layer, param, "self-kink")] = (
                f"{kinked} self-consistency probe(s) of {param}[{layer}] not judged: "
                "the implementation's own loss has a kink within the step"
            )


def _judge(
    losses: list[float], base: float, predicted: float, scale: float, step: float
) -> tuple[float, float, float] | str | None:
    """``None`` if the probe agrees, ``"kink"`` if the loss is not smooth there, else the numbers.

    ``losses`` are at +2h, +h, −h, −2h. The four one-sided slopes between the five points sample
    the derivative at ±h/2, ±3h/2: for a smooth loss they lie on a line up to h²·f‴ and round-off,
    so their second differences vanish; a kink inside the step leaves one of size ~ its jump.
    """
    L2, L1, Lm1, Lm2 = losses
    slopes = [(L2 - L1) / step, (L1 - base) / step, (base - Lm1) / step, (Lm1 - Lm2) / step]
    at_h = (L1 - Lm1) / (2 * step)
    at_2h = (L2 - Lm2) / (4 * step)
    roundoff = 8 * torch.finfo(torch.float64).eps * (1.0 + max(abs(x) for x in (*losses, base))) / step
    allowed = NOISE_MARGIN * (abs(at_h - at_2h) / 3 + roundoff) + RTOL * scale
    bend = max(abs(slopes[0] - 2 * slopes[1] + slopes[2]), abs(slopes[1] - 2 * slopes[2] + slopes[3]))
    if bend > allowed + NOISE_MARGIN * 4 * roundoff:
        return "kink"
    return None if abs(at_h - predicted) <= allowed else (at_h, predicted, allowed)
