"""Three independent opinions on the true gradients, always computed in float64 on the CPU.

* :func:`autograd_oracle`: torch autograd through the specification's forward pass. Exact up to
  round-off; also records every z⁽ˡ⁾, a⁽ˡ⁾ and δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾, which the diagnosis uses to test
  explanations numerically.
* :func:`finite_difference_oracle`: central differences over every parameter, with a per-entry
  noise estimate. It exploits the layers: perturbing any entry of W⁽ˡ⁾ or b⁽ˡ⁾ changes z⁽ˡ⁾ by a
  known column, so all perturbations of one layer travel as extra activation columns through the
  layers above it (one matrix product per layer, not one forward pass per parameter).
* :func:`reference_oracle`: the hand-written backprop in ``reference_impl`` (``reference_impl.general``
  for specifications beyond the seed).

The three never share code paths for the derivative, so when two agree and the implementation
differs, the implementation is wrong; when the oracles themselves disagree, the harness says so
instead of blaming anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import torch
from torch import Tensor

import reference_impl
import reference_impl.general

from .cases import Case
from .spec import SEED, Activation, Spec

__all__ = [
    "FD_MAX_COLUMNS",
    "FD_STEP",
    "Gradients",
    "autograd_oracle",
    "columns_within",
    "finite_difference_oracle",
    "reference_oracle",
]

# Central-difference step in float64: truncation ~h²·f‴/6 ≈ 1e-11 and round-off ~ε·|L|/h ≈ 1e-11.
FD_STEP = 1e-5
# Perturbation columns pushed through the network at once. Small enough that a chunk's
# activations stay in cache and memory stays bounded: on the 64-wide benchmark network 4096
# columns ran 2.5x faster than 65536 (median 8 ms vs 22 ms).
FD_MAX_COLUMNS = 1 << 12


@dataclass
class Gradients:
    """A loss and one gradient per parameter; float64, CPU. ``noise`` bounds FD error per entry."""

    loss: Tensor
    W: list[Tensor]
    b: list[Tensor]
    zs: list[Tensor] = field(default_factory=list)
    activations: list[Tensor] = field(default_factory=list)
    deltas: list[Tensor] = field(default_factory=list)
    W_noise: list[Tensor] = field(default_factory=list)
    b_noise: list[Tensor] = field(default_factory=list)
    W_kinks: list[Tensor] = field(
        default_factory=list
    )  # FD only, kinked specs only: True where a step straddles a kink
    b_kinks: list[Tensor] = field(default_factory=list)
    evaluations: int = 0  # FD only: perturbed losses computed, each at most one forward pass
    peak_bytes: int = 0  # FD only: the largest working set of one chunk of perturbations, from its shapes

    def param(self, layer: int, name: str) -> Tensor:
        """The gradient of ``W[layer]`` (``name="W"``) or ``b[layer]`` (``name="b"``)."""
        return (self.W if name == "W" else self.b)[layer]

    def noise(self, layer: int, name: str) -> Tensor | None:
        """The finite-difference error bound for that gradient, if this oracle has one."""
        bounds = self.W_noise if name == "W" else self.b_noise
        return bounds[layer] if bounds else None

    def kinks(self, layer: int, name: str) -> Tensor | None:
        """Entries whose finite difference straddles a ReLU kink (meaningless there), if known."""
        masks = self.W_kinks if name == "W" else self.b_kinks
        return masks[layer] if masks else None


def autograd_oracle(spec: Spec, case: Case) -> Gradients:
    """Autograd through ``spec.forward``; also returns z⁽ˡ⁾, a⁽ˡ⁾ and δ⁽ˡ⁾ for the diagnosis.

    The activation is differentiated by its precise derivative (σ(z)·σ(−z)), not torch's
    a(1 − a), so saturated cases keep their true, tiny gradients.
    """
    c = case.as_float64_cpu()
    W = [w.clone().requires_grad_(True) for w in c.W]
    b = [v.clone().requires_grad_(True) for v in c.b]
    with torch.enable_grad():
        zs, activations = spec.forward(c.x, W, b, precise=True)
        loss = spec.objective(zs, activations, c.y, W, b)
        grads = torch.autograd.grad(loss, [*W, *b, *zs])
    L1 = len(W)
    return Gradients(
        loss=loss.detach(),
        W=list(grads[:L1]),
        b=list(grads[L1 : 2 * L1]),
        zs=[z.detach() for z in zs],
        activations=[a.detach() for a in activations],
        deltas=list(grads[2 * L1 :]),
    )


def reference_oracle(case: Case, spec: Spec | None = None) -> Gradients:
    """The hand-written backprop of ``reference_impl`` in float64: the seed's equations for the
    seed's contract, ``reference_impl.general`` with the spec's settings for any other."""
    c = case.as_float64_cpu()
    if spec is None or spec == SEED:
        loss, W_grads, b_grads = reference_impl.forward_backward(c.x, c.y, c.W, c.b)
    else:
        # Spec.__post_init__ parsed both to an Activation; the field's type also admits the name.
        hidden, output = cast(Activation, spec.hidden), cast(Activation, spec.output)
        loss, W_grads, b_grads = reference_impl.general.forward_backward(
            c.x,
            c.y,
            c.W,
            c.b,
            hidden=hidden.name,
            output=output.name,
            hidden_slope=hidden.slope,
            output_slope=output.slope,
            criterion=spec.criterion,
            batch_reduction=spec.batch_reduction,
            output_reduction=spec.output_reduction,
            l2=spec.l2,
            l2_form=spec.l2_form,
            l2_biases=spec.l2_biases,
            l2_batch_mean=spec.l2_batch_mean,
        )
    return Gradients(loss=loss, W=list(W_grads), b=list(b_grads))


def _perturbations(a_prev: Tensor, rows: int, first: int, last: int) -> tuple[Tensor, Tensor]:
    """Which row of z⁽ˡ⁾ parameters ``first..last-1`` move, and by how much per unit step.

    Parameters are numbered W⁽ˡ⁾ row-major first, then b⁽ˡ⁾. Moving W[i, j] moves row i of z
    by a⁽ˡ⁻¹⁾[j, :]; moving b[i] moves row i by one. Returns ``row`` ``[p]`` and ``slope`` ``[p, B]``.
    """
    n_in, batch = a_prev.shape
    index = torch.arange(first, last)
    is_weight = index < rows * n_in
    row = torch.where(is_weight, index // n_in, index - rows * n_in)
    slope = torch.where(is_weight.unsqueeze(1), a_prev[index % n_in], torch.ones(batch, dtype=a_prev.dtype))
    return row, slope


def _crossed(before: Tensor, after: Tensor, columns: int) -> Tensor:
    """Which perturbations ``[p]`` moved some pre-activation across 0 (a ReLU kink).

    ``before`` is ``[n, B]``; ``after`` is ``[n, steps · p · B]``, the same entries perturbed.
    """
    n, batch = before.shape
    flips = (after.reshape(n, -1, columns, batch) > 0) != (before > 0).view(n, 1, 1, batch)
    return flips.any(dim=3).any(dim=1).any(dim=0)


def _losses_after_moving(
    spec: Spec,
    acts: list[Activation],
    case: Case,
    layer: int,
    row: Tensor,
    dz: Tensor,
    zs: list[Tensor],
    kinks: Tensor | None,
) -> Tensor:
    """Losses ``[steps, p]`` (reduced over the batch) when entry ``row[k]`` of z⁽ˡ⁾ moves by ``dz[:, k]``.

    ``dz`` is ``[steps, p, B]``. One entry of a⁽ˡ⁾ moves per column, so z⁽ˡ⁺¹⁾ moves by one
    column of W⁽ˡ⁺¹⁾ times that change: layer l + 1 needs no matrix product, the layers above
    one product each, for all perturbations at once. ``kinks`` (``[p]``, or ``None`` when no
    layer has a kink) is or-ed with whether a perturbation moved any pre-activation across 0.
    """
    steps, p, batch = dz.shape
    if layer + 1 == len(case.W):  # the output's own pre-activation moves
        z = (
            zs[layer].view(-1, 1, 1, batch)
            + torch.nn.functional.one_hot(row, zs[layer].shape[0]).T.to(dz.dtype).view(-1, 1, p, 1) * dz
        )
    else:
        z_row = zs[layer][row]
        change = acts[layer](z_row + dz) - acts[layer](z_row)
        z = torch.addcmul(zs[layer + 1].view(-1, 1, 1, batch), case.W[layer + 1][:, row].view(-1, 1, p, 1), change)
        for k in range(layer + 1, len(case.W) - 1):
            z = z.reshape(z.shape[0], -1)
            if kinks is not None and acts[k].kinked:
                kinks |= _crossed(zs[k], z, p)
            z = torch.addmm(case.b[k + 1], case.W[k + 1], acts[k](z))
    columns = z.reshape(z.shape[0], -1)
    if kinks is not None and acts[-1].kinked and layer + 1 < len(case.W):
        kinks |= _crossed(zs[-1], columns, p)
    losses = spec.output_losses(columns, acts[-1](columns), case.y.repeat(1, steps * p))
    return spec.reduce_batch(losses.view(steps, p, batch), dim=2)


# Tensors of one chunk's width alive at once above the perturbed layer: z, its activation and the
# next product (plus the gathered column of W and the perturbation itself, counted once more).
_LIVE_COPIES = 4


def column_bytes(case: Case, layer: int) -> int:
    """Bytes one perturbation column needs while it travels up from ``layer`` (float64)."""
    above = [w.shape[0] for w in case.W[layer:]]
    return 8 * _LIVE_COPIES * max(above)


def columns_within(case: Case, layer: int, memory_bytes: int | None) -> int:
    """How many perturbation columns one chunk may push through at once: :data:`FD_MAX_COLUMNS`,
    or fewer when ``memory_bytes`` bounds the chunk's working set (never fewer than one)."""
    if memory_bytes is None:
        return FD_MAX_COLUMNS
    return max(1, min(FD_MAX_COLUMNS, memory_bytes // column_bytes(case, layer)))


def _central_differences(
    spec: Spec,
    case: Case,
    layer: int,
    inputs: list[Tensor],
    zs: list[Tensor],
    steps: tuple[float, ...],
    max_columns: int = FD_MAX_COLUMNS,
) -> tuple[list[Tensor], Tensor | None]:
    """Central differences at each of ``steps`` for every parameter of one layer, flat; and
    which of them straddle a kink (``None`` when the spec has none).

    The L2 penalty is separable, so each perturbation changes it by c·((θ + s)² − θ²): that
    change is added to the perturbed losses and differenced with them, not differentiated.
    """
    a_prev, z = inputs[layer], zs[layer]
    rows, batch = z.shape
    acts = spec.activations(len(case.W))
    count = case.W[layer].numel() + rows
    signed = [s for step in steps for s in (step, -step)]
    chunk = max(1, max_columns // (len(signed) * batch))
    shifts = torch.tensor(signed, dtype=z.dtype).view(-1, 1, 1)
    c = spec.penalty_factor(batch)
    theta = torch.cat(
        [case.W[layer].reshape(-1), case.b[layer].reshape(-1) if spec.l2_biases else torch.zeros(rows, dtype=z.dtype)]
    )
    estimates: list[list[Tensor]] = [[] for _ in steps]
    kinked: list[Tensor] = []
    for first in range(0, count, chunk):
        last = min(count, first + chunk)
        row, slope = _perturbations(a_prev, rows, first, last)
        dz = shifts * slope
        kinks = None
        if spec.kinked:
            kinks = torch.zeros(last - first, dtype=torch.bool)
            if acts[layer].kinked:
                kinks |= ((z[row] + dz > 0) != (z[row] > 0)).any(dim=2).any(dim=0)
        losses = _losses_after_moving(spec, acts, case, layer, row, dz, zs, kinks)
        if c:
            t = theta[first:last]
            losses = losses + c * ((t + shifts.view(-1, 1)) ** 2 - t**2)
        for i, step in enumerate(steps):
            estimates[i].append((losses[2 * i] - losses[2 * i + 1]) / (2 * step))
        if kinks is not None:  # None exactly when the spec has no kink
            kinked.append(kinks)
    return [torch.cat(e) for e in estimates], torch.cat(kinked) if spec.kinked else None


def finite_difference_oracle(
    spec: Spec, case: Case, step: float = FD_STEP, *, error_bound: bool = True, memory_bytes: int | None = None
) -> Gradients:
    """Central-difference gradients of every parameter, with a per-entry error estimate.

    With ``error_bound`` the estimate adds the truncation error, taken from the same difference
    at twice the step (Richardson: it is a third of their gap), to the round-off floor ε·|L|/h;
    that doubles the work. Without it, ``noise`` is the round-off floor alone, a lower bound:
    a comparison that passes with it passes with the full bound too (see
    :func:`gradcheck.checker.compute_truth`, which asks for the bound only when it must).

    ``memory_bytes`` bounds each chunk's working set (:func:`columns_within`): a smaller budget
    means more, narrower chunks, the same result. ``peak_bytes`` reports the largest chunk's
    working set plus the gradients and bounds being assembled, estimated from tensor shapes.
    """
    c = case.as_float64_cpu()
    zs, activations = spec.forward(c.x, c.W, c.b)
    loss = spec.objective(zs, activations, c.y, c.W, c.b)
    roundoff = 8 * torch.finfo(torch.float64).eps * (1.0 + float(loss.abs())) / step
    result = Gradients(loss=loss, W=[], b=[])
    inputs = [c.x, *activations[:-1]]
    steps = (step, 2 * step) if error_bound else (step,)
    batch = c.x.shape[1]
    parameters = sum(w.numel() + v.numel() for w, v in zip(c.W, c.b))
    for layer, W_l in enumerate(c.W):
        columns = columns_within(c, layer, memory_bytes)
        estimates, kinks = _central_differences(spec, c, layer, inputs, zs, steps, columns)
        count = W_l.numel() + c.b[layer].numel()
        result.evaluations += 2 * len(steps) * count
        chunk = max(1, columns // (2 * len(steps) * batch)) * 2 * len(steps) * batch
        working = min(chunk, 2 * len(steps) * count * batch) * column_bytes(c, layer)
        result.peak_bytes = max(result.peak_bytes, working + 8 * (len(steps) + 2) * parameters)
        g_h = estimates[0]
        noise = (g_h - estimates[1]).abs() / 3 + roundoff if error_bound else torch.full_like(g_h, roundoff)
        n_weights = W_l.numel()
        result.W.append(g_h[:n_weights].view_as(W_l))
        result.b.append(g_h[n_weights:].view_as(c.b[layer]))
        result.W_noise.append(noise[:n_weights].view_as(W_l))
        result.b_noise.append(noise[n_weights:].view_as(c.b[layer]))
        if kinks is not None:
            result.W_kinks.append(kinks[:n_weights].view_as(W_l))
            result.b_kinks.append(kinks[n_weights:].view_as(c.b[layer]))
    return result
