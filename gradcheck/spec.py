"""The specification: what a correct implementation computes.

One explicit object instead of assumptions scattered through the oracles. The seed's contract
is the default: column vectors, W⁽ˡ⁾ of shape ``[n_{l+1}, n_l]``, sigmoid on every layer, loss
½ Σ (a⁽ᴸ⁾ − ȳ)² summed over every entry, bias gradients summed over the batch. Every oracle
computes its forward pass through this object, so a future specification (another activation,
loss or reduction) changes one place.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["Spec", "SEED"]


@dataclass(frozen=True)
class Spec:
    """What the implementation under test is supposed to compute.

    ``batch``: whether the implementation is expected to take ``x`` of shape ``[n_0, B]`` with
    ``B > 1`` (bias gradients summed over ``B``). Off by default, like the seed, so a correct
    single-instance solution is never failed for lacking batches.
    """

    name: str = "seed"
    batch: bool = False

    def activation(self, z: Tensor) -> Tensor:
        """σ(z), the seed's sigmoid."""
        return torch.sigmoid(z)

    def activation_derivative(self, z: Tensor) -> Tensor:
        """σ′(z) to full precision: σ(z)·σ(−z) keeps e⁻¹⁰⁰ where a(1 − a) rounds to 0."""
        return torch.sigmoid(z) * torch.sigmoid(-z)

    def column_losses(self, a_L: Tensor, y: Tensor) -> Tensor:
        """½ Σ_i (a⁽ᴸ⁾ − ȳ)² for each column: shape ``[columns]``; the loss is their sum."""
        return 0.5 * (a_L - y).pow(2).sum(dim=0)

    def forward(self, x: Tensor, W: list[Tensor], b: list[Tensor], *, precise: bool = False) -> tuple[list[Tensor], list[Tensor]]:
        """Pre-activations z⁽ˡ⁾ and activations a⁽ˡ⁾ for every layer, input excluded.

        ``precise=True`` differentiates the activation through :meth:`activation_derivative`
        instead of torch's formula, so the autograd oracle is exact where sigmoids saturate.
        """
        zs, activations = [], []
        a = x
        for W_l, b_l in zip(W, b):
            z = W_l @ a + b_l
            a = _PreciseActivation.apply(z, self) if precise else self.activation(z)
            zs.append(z)
            activations.append(a)
        return zs, activations

    def loss(self, x: Tensor, y: Tensor, W: list[Tensor], b: list[Tensor]) -> Tensor:
        """The scalar loss of the whole case."""
        _, activations = self.forward(x, W, b)
        return self.column_losses(activations[-1], y).sum()


class _PreciseActivation(torch.autograd.Function):
    """The specification's activation, differentiated by its precise derivative."""

    @staticmethod
    def forward(ctx, z: Tensor, spec: Spec) -> Tensor:
        ctx.save_for_backward(z)
        ctx.spec = spec
        return spec.activation(z)

    @staticmethod
    def backward(ctx, grad: Tensor):
        (z,) = ctx.saved_tensors
        return grad * ctx.spec.activation_derivative(z), None


SEED = Spec()
