"""Sampled finite differences: the arbiter for networks too large to difference entry by entry.

Full finite differences (:func:`gradcheck.oracles.finite_difference_oracle`) cost one perturbed
loss per parameter and step, about P^1.4 in practice. But the finite differences only arbitrate
between two exact oracles (autograd and the reference); the implementation is still compared
with autograd entry by entry. An arbiter can sample. Per parameter tensor θ it takes

* a few signed random directions v (entries ±1, Rademacher), each a test of the whole tensor:
  the directional derivative ∇θL·v, and
* a few coordinates (one-hot v), each a test of one entry,

and differences the loss along each v at steps ±h and ±2h. The estimate's own error bound
(Richardson: a third of the gap between the two steps, plus the round-off floor ε·|L|/h) is the
allowance: it is never scaled by the direction's norm, so a long direction does not loosen it.

All probes of one tensor travel together as extra activation columns from that tensor's layer
up: moving W⁽ˡ⁾ by s·V moves z⁽ˡ⁾ by s·V a⁽ˡ⁻¹⁾, moving b⁽ˡ⁾ by s·v moves it by s·v. Directions
and coordinates are drawn from a generator seeded per (seed, layer, parameter), so a run is
reproducible and its probes can be rebuilt from the seed alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from .cases import Case
from .oracles import FD_STEP
from .spec import Activation, Spec

__all__ = [
    "DEFAULT_COORDINATES",
    "DEFAULT_DIRECTIONS",
    "Probe",
    "SampledDifferences",
    "probe_disagreements",
    "sampled_finite_differences",
]

DEFAULT_DIRECTIONS = 2
DEFAULT_COORDINATES = 4
# A probe agrees with a gradient when their gap is within this multiple of the probe's own error
# bound (the same margin the full finite differences get against autograd).
PROBE_MARGIN = 10.0
# Signed steps per probe, in units of h: the central difference at h and at 2h (Richardson).
_STEPS = (1.0, -1.0, 2.0, -2.0)


@dataclass(frozen=True)
class Probe:
    """One directional finite difference: ∇θL·v for θ = ``param[layer]`` and v = ``direction``."""

    layer: int
    param: str  # "W" or "b"
    kind: str  # "direction" (±1 everywhere) or "coordinate" (one entry)
    direction: Tensor  # the shape of the parameter; float64, CPU
    estimate: float  # the central difference at step h
    noise: float  # its error bound: Richardson truncation estimate plus the round-off floor
    kinked: bool  # some pre-activation crossed a ReLU kink along v: the estimate means nothing

    def exact(self, gradient: Tensor) -> float:
        """What an exact gradient predicts for this probe: gradient · v."""
        return float((gradient * self.direction).sum())

    def allowed(self) -> float:
        """How far an exact gradient's prediction may land from the estimate."""
        return PROBE_MARGIN * self.noise

    def describe(self) -> str:
        """Which probe this is, in words: a direction, or the coordinate it tests."""
        if self.kind == "direction":
            return f"a random ±1 direction over {self.param}[{self.layer}]"
        index = tuple(int(i) for i in torch.nonzero(self.direction)[0])
        return f"{self.param}[{self.layer}]{list(index)}"


@dataclass(frozen=True)
class SampledDifferences:
    """Every probe of one case, the loss, and what they cost."""

    loss: float
    probes: tuple[Probe, ...]
    seed: int
    loss_evaluations: int  # perturbed losses computed, each at most one forward pass


def sampled_finite_differences(
    spec: Spec,
    case: Case,
    *,
    directions: int = DEFAULT_DIRECTIONS,
    coordinates: int = DEFAULT_COORDINATES,
    seed: int = 0,
    step: float = FD_STEP,
) -> SampledDifferences:
    """Probe every parameter tensor of ``case`` along seeded random directions and coordinates."""
    if directions < 0 or coordinates < 0:
        raise ValueError(f"directions={directions} and coordinates={coordinates} must both be >= 0")
    c = case.as_float64_cpu()
    zs, activations = spec.forward(c.x, c.W, c.b)
    loss = float(spec.objective(zs, activations, c.y, c.W, c.b))
    roundoff = 8 * torch.finfo(torch.float64).eps * (1.0 + abs(loss)) / step
    inputs = [c.x, *activations[:-1]]
    acts = spec.activations(len(c.W))
    probes: list[Probe] = []
    evaluations = 0
    for layer in range(len(c.W)):
        for param, theta in (("W", c.W[layer]), ("b", c.b[layer])):
            drawn = _draw(theta, directions, coordinates, _tensor_seed(seed, layer, param))
            if not drawn:
                continue
            V = torch.stack([v for _, v in drawn])
            dz = V @ inputs[layer] if param == "W" else V.expand(-1, -1, zs[layer].shape[1])
            losses, kinked = _losses_along(spec, acts, c, layer, zs, dz, step)
            losses = losses + _penalty_change(spec, theta, V, step, c.y.shape[-1], param)
            evaluations += losses.numel()
            d_h = (losses[0] - losses[1]) / (2 * step)
            d_2h = (losses[2] - losses[3]) / (4 * step)
            noise = (d_h - d_2h).abs() / 3 + roundoff
            for k, (kind, v) in enumerate(drawn):
                probes.append(Probe(layer, param, kind, v, float(d_h[k]), float(noise[k]), bool(kinked[k])))
    return SampledDifferences(loss=loss, probes=tuple(probes), seed=seed, loss_evaluations=evaluations)


def _tensor_seed(seed: int, layer: int, param: str) -> int:
    """A generator seed of its own per tensor, so adding a layer does not move the others' probes."""
    return (seed * 1_000_003 + layer * 2 + (param == "b")) % (2**63)


def _draw(theta: Tensor, directions: int, coordinates: int, seed: int) -> list[tuple[str, Tensor]]:
    """``directions`` Rademacher directions and ``coordinates`` distinct one-hot ones (fewer for a
    small tensor), all with ``theta``'s shape."""
    generator = torch.Generator().manual_seed(seed)
    drawn = []
    for _ in range(directions):
        signs = torch.randint(0, 2, theta.shape, generator=generator, dtype=torch.int64)
        drawn.append(("direction", (2 * signs - 1).to(theta.dtype)))
    picks = torch.randperm(theta.numel(), generator=generator)[: min(coordinates, theta.numel())]
    for index in picks.tolist():
        v = torch.zeros(theta.numel(), dtype=theta.dtype)
        v[index] = 1.0
        drawn.append(("coordinate", v.view_as(theta)))
    return drawn


def _losses_along(
    spec: Spec, acts: list[Activation], case: Case, layer: int, zs: list[Tensor], dz: Tensor, step: float
) -> tuple[Tensor, Tensor]:
    """Losses ``[4, k]`` when z⁽ˡ⁾ moves by s·h·dz[k] for s in ±1, ±2; and which of the k probes
    moved some pre-activation across a kink. ``dz`` is ``[k, n_l, B]``."""
    k, rows, batch = dz.shape
    shifts = torch.tensor(_STEPS, dtype=dz.dtype).view(-1, 1, 1, 1) * step
    z = (zs[layer].view(1, 1, rows, batch) + shifts * dz.unsqueeze(0)).permute(2, 0, 1, 3).reshape(rows, -1)
    kinked = torch.zeros(k, dtype=torch.bool)
    for current in range(layer, len(case.W)):
        if acts[current].kinked:
            kinked |= _crossed(zs[current], z, k)
        if current + 1 < len(case.W):
            z = torch.addmm(case.b[current + 1], case.W[current + 1], acts[current](z))
    losses = spec.output_losses(z, acts[-1](z), case.y.repeat(1, len(_STEPS) * k))
    return spec.reduce_batch(losses.view(len(_STEPS), k, batch), dim=2), kinked


def _crossed(before: Tensor, after: Tensor, k: int) -> Tensor:
    """Which of the k probes ``[k]`` moved an entry of ``before`` (``[n, B]``) across 0."""
    n, batch = before.shape
    flips = (after.view(n, len(_STEPS), k, batch) > 0) != (before > 0).view(n, 1, 1, batch)
    return flips.any(dim=3).any(dim=1).any(dim=0)


def _penalty_change(spec: Spec, theta: Tensor, V: Tensor, step: float, batch: int, param: str) -> Tensor | float:
    """How the L2 penalty c·Σθ² changes along each direction: c·(2s θ·v + s² v·v), added exactly."""
    c = spec.penalty_factor(batch)
    if c == 0 or (param == "b" and not spec.l2_biases):
        return 0.0
    s = torch.tensor(_STEPS, dtype=V.dtype).view(-1, 1) * step
    dot = (V * theta).flatten(1).sum(dim=1)
    norm = (V * V).flatten(1).sum(dim=1)
    return c * (2 * s * dot + s * s * norm)


def probe_disagreements(gradient_of: Callable[[int, str], Tensor], sampled: SampledDifferences) -> dict[tuple, str]:
    """Where a gradient (``gradient_of(layer, param)``, normally autograd's) disagrees with the
    probes beyond their error bound, one note per (layer, param); probes that crossed a kink are
    left out and counted under ``(layer, param, "kink")``, as the full differences do."""
    notes: dict[tuple, str] = {}
    kinked: dict[tuple[int, str], int] = {}
    for probe in sampled.probes:
        key = (probe.layer, probe.param)
        if probe.kinked:
            kinked[key] = kinked.get(key, 0) + 1
            continue
        gap = abs(probe.exact(gradient_of(*key)) - probe.estimate)
        if gap > probe.allowed() and key not in notes:
            notes[key] = (
                f"autograd and sampled finite differences disagree on {probe.param}[{probe.layer}] along "
                f"{probe.describe()} (error {gap:.2g}, allowed {probe.allowed():.2g})"
            )
    for (layer, param), count in kinked.items():
        notes[(layer, param, "kink")] = f"{count} probe(s) of {param}[{layer}] not judged: they cross a ReLU kink"
    return notes
