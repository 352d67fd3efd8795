"""Which finite differences arbitrate a case: all of them, or a seeded sample.

Full finite differences difference every parameter (:func:`gradcheck.oracles.finite_difference_oracle`)
and cost about P^1.4; on a 1024-1024-1024-10 network that is tens of seconds. But they only
arbitrate between autograd and the hand-written reference, two exact oracles; the
implementation is still compared with autograd entry by entry, so a sample of probes
(:mod:`gradcheck.probes`: a few ±1 directions and coordinates per tensor, each judged against
float64 autograd within its own Richardson error bound) confirms autograd just as well, and
detection does not drop. ``auto`` takes the full differences up to :data:`FD_AUTO_LIMIT`
parameters and the sample above.

In sampled mode the finite-difference "gradient" a :class:`~gradcheck.oracles.Gradients` holds
is autograd's, confirmed by the probes (the tensor is inconclusive where they disagree).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

from .cases import Case
from .oracles import FD_STEP, Gradients
from .probes import probe_disagreements, sampled_finite_differences
from .spec import Spec
from .vocabulary import FD_MODES, FdMode, parse_fd

__all__ = ["FD_AUTO_LIMIT", "FD_MODES", "FdMode", "chosen_fd", "parse_fd", "sampled_oracle"]

# Parameters above which ``auto`` samples. Full differences take about 20 ms at P = 12.5k and
# 0.4 s at 134k on a quiet 2-core box; the built-in cases and the search stay far below this.
FD_AUTO_LIMIT = 50_000
# A pre-activation this close to 0 (relative to the layer's largest) may be crossed by some
# probe of a layer below: those layers' kink masks cover every entry.
_NEAR_KINK = 1e-6


def chosen_fd(fd: str, case: Case) -> Literal["full", "sampled"]:
    """The mode that runs on ``case``: ``fd`` itself, or for ``auto`` the one its size calls for."""
    if fd == "auto":
        parameters = sum(w.numel() + v.numel() for w, v in zip(case.W, case.b))
        return "full" if parameters <= FD_AUTO_LIMIT else "sampled"
    return "sampled" if parse_fd(fd) == "sampled" else "full"


def sampled_oracle(spec: Spec, case: Case, ad: Gradients) -> tuple[Gradients, dict[tuple, str], int]:
    """Autograd's gradients confirmed by seeded probes (the case's seed); where the probes
    disagree beyond their error bound, notes (the tensors are inconclusive); and the number of
    probes. For a kinked specification, entries a step could carry across a kink are masked
    as the full differences mask them (:func:`_kink_masks`)."""
    sampled = sampled_finite_differences(spec, case, seed=case.spec.seed)
    notes = probe_disagreements(ad.param, sampled)
    fd = Gradients(loss=ad.loss, W=list(ad.W), b=list(ad.b), evaluations=sampled.loss_evaluations)
    fd.W_noise = [torch.zeros_like(g) for g in ad.W]
    fd.b_noise = [torch.zeros_like(g) for g in ad.b]
    fd.peak_bytes = 8 * 4 * len(sampled.probes) * max(w.shape[0] for w in case.W) * case.x.shape[1]
    if spec.kinked:
        fd.W_kinks, fd.b_kinks = _kink_masks(spec, case)
    return fd, notes, len(sampled.probes)


def _kink_masks(spec: Spec, case: Case, step: float = FD_STEP) -> tuple[list[Tensor], list[Tensor]]:
    """Per entry, whether a ±2h step could cross a kink: exactly at the entry's own layer
    (|z_i| ≤ 2h·|a_j| for some batch column), and conservatively above it (every entry of the
    layers below a pre-activation within :data:`_NEAR_KINK` of 0)."""
    c = case.as_float64_cpu()
    zs, activations = spec.forward(c.x, c.W, c.b)
    acts = spec.activations(len(c.W))
    inputs = [c.x, *activations[:-1]]
    near = [
        bool(acts[k].kinked and (z.abs() <= _NEAR_KINK * (1 + float(z.abs().max()))).any()) for k, z in enumerate(zs)
    ]
    W_kinks, b_kinks = [], []
    for layer, z in enumerate(zs):
        reach = 2 * step
        if any(near[layer + 1 :]):
            W_kinks.append(torch.ones_like(c.W[layer], dtype=torch.bool))
            b_kinks.append(torch.ones_like(c.b[layer], dtype=torch.bool))
            continue
        if not acts[layer].kinked:
            W_kinks.append(torch.zeros_like(c.W[layer], dtype=torch.bool))
            b_kinks.append(torch.zeros_like(c.b[layer], dtype=torch.bool))
            continue
        # [rows, n_in, B]: |z[i, b]| <= 2h |a[j, b]|, any b
        a = inputs[layer]
        W_kinks.append((z.abs().unsqueeze(1) <= reach * a.abs().unsqueeze(0)).any(dim=2))
        b_kinks.append((z.abs() <= reach).any(dim=1).view_as(c.b[layer]))
    return W_kinks, b_kinks
