"""Comparing one gradient tensor with the truth: mismatches kept as data, turned into text apart.

Tolerances follow the *implementation's* dtype, while the truth is always float64:

=========  ======  =====================  =============================================
dtype      rtol    atol (× scale)         why
=========  ======  =====================  =============================================
float64    1e-7    1e-11                  round-off of a correct float64 backprop is ~1e-15
                                          relative; a 1e-3 error in one entry is 10⁴× over
float32    1e-4    1e-5                   ε₃₂ ≈ 6e-8 accumulated over depth and width
float16    1e-2    1e-2                   ε₁₆ ≈ 1e-3
bfloat16   5e-2    5e-2                   ε ≈ 8e-3
=========  ======  =====================  =============================================

``scale`` is the largest true entry of that tensor, so a tolerance means the same thing for a
gradient of 1e-3 and of 1e3. On top of that, a round-off ``slack`` (see :mod:`gradcheck.checker`) adds what a
trusted computation in the same dtype actually gets wrong, which is what keeps float32 fair where
sigmoids saturate and σ′ = a(1 − a) is pure round-off.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "TOLERANCES",
    "Mismatch",
    "NoiseFloor",
    "Tolerance",
    "WithNoise",
    "compare",
    "describe_mismatch",
    "entry_index",
    "noise_of",
]


@dataclass(frozen=True)
class Tolerance:
    """Allowed error per entry: ``atol_scale · scale + rtol · |expected| + noise``."""

    rtol: float
    atol_scale: float


TOLERANCES = {
    torch.float64: Tolerance(rtol=1e-7, atol_scale=1e-11),
    torch.float32: Tolerance(rtol=1e-4, atol_scale=1e-5),
    torch.float16: Tolerance(rtol=1e-2, atol_scale=1e-2),
    torch.bfloat16: Tolerance(rtol=5e-2, atol_scale=5e-2),
}


NoiseFloor = dict[tuple[int, str], Tensor]  # (layer, "W" | "b") -> per-entry error of how it was obtained


class WithNoise(tuple):
    """``(loss, W_grads, b_grads)`` as an extraction path hands it to the checker, plus ``noise``:
    the per-entry error that path itself adds (float64, canonical layout), e.g. the cancellation
    of a gradient recovered from a training step. The checker adds it to the allowance, so the
    harness's own round-off is never blamed on the code."""

    noise: NoiseFloor

    def __new__(cls, value: tuple, noise: NoiseFloor) -> WithNoise:
        self = super().__new__(cls, value)
        self.noise = noise
        return self


def noise_of(value: object, layer: int, param: str) -> Tensor | float:
    """The extraction's noise floor for one returned tensor (0 where the path adds none)."""
    floor = value.noise.get((layer, param)) if isinstance(value, WithNoise) else None
    return 0.0 if floor is None else floor.detach().to(device="cpu", dtype=torch.float64)


@dataclass(frozen=True)
class Mismatch:
    """How a tensor differs from the truth: the facts a message or a diagnosis needs."""

    mismatched: int
    total: int
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...]
    allowed_at_worst: float
    expected_at_worst: float
    got_at_worst: float


def allowed_error(expected: Tensor, tolerance: Tolerance, noise: Tensor | float = 0.0) -> Tensor:
    """Per-entry allowance for ``expected`` (float64)."""
    scale = float(expected.abs().max()) if expected.numel() else 0.0
    return tolerance.atol_scale * scale + tolerance.rtol * expected.abs() + noise + torch.finfo(torch.float64).tiny


def entry_index(flat: int, shape: Sequence[int]) -> tuple[int, ...]:
    """The index of entry ``flat`` of a row-major tensor of ``shape``, by integer division.

    Not ``torch.unravel_index``: its first call imports sympy and hundreds of other modules
    (0.6 s), paid on every failing check.
    """
    index = []
    for size in reversed(shape):
        flat, i = divmod(flat, size)
        index.append(i)
    return tuple(reversed(index))


def compare(got: Tensor, expected: Tensor, allowed: Tensor) -> Mismatch | None:
    """``None`` when every entry of ``got`` is within ``allowed`` of ``expected`` (same shapes)."""
    error = (got - expected).abs()
    over = ~(error <= allowed)  # NaN counts as over
    if not bool(over.any()):
        return None
    excess = torch.where(over, error / allowed, torch.zeros_like(error)).nan_to_num(nan=math.inf)
    flat = int(excess.argmax())
    worst = entry_index(flat, expected.shape)
    rel = error / expected.abs()
    return Mismatch(
        mismatched=int(over.sum()),
        total=expected.numel(),
        max_abs_error=float(error.nan_to_num(nan=math.inf).max()),
        max_rel_error=float(rel.nan_to_num(nan=math.inf).max()),
        worst_index=worst,
        allowed_at_worst=float(allowed.reshape(-1)[flat]),
        expected_at_worst=float(expected.reshape(-1)[flat]),
        got_at_worst=float(got.reshape(-1)[flat]),
    )


def describe_mismatch(m: Mismatch) -> str:
    """One line in the style of ``torch.testing.assert_close``: what, where, by how much."""
    share = 100.0 * m.mismatched / m.total
    return (
        f"{m.mismatched} / {m.total} entries ({share:.1f}%) off; worst at index {m.worst_index}: "
        f"got {m.got_at_worst:.6g}, expected {m.expected_at_worst:.6g} "
        f"(error {abs(m.got_at_worst - m.expected_at_worst):.3g}, up to {m.allowed_at_worst:.3g} allowed); "
        f"max abs error {m.max_abs_error:.3g}, max rel error {m.max_rel_error:.3g}"
    )
