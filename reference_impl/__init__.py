"""The seed notebook's math, corrected: forward and backward propagation for a sigmoid MLP.

Same API as the notebook (``Z``, ``A``, ``forward``, ``mse_loss``, ``forward_backward``) so that a
student can diff their work against it line by line. Two fixes over the seed:

* layer 0 takes the input ``x`` as a⁽⁻¹⁾ (the seed used ``a[l-1]``, which at ``l = 0`` is ``a[-1]``,
  the *last* activation);
* a single-layer network (``L = 0``) works, for the same reason.

It also accepts a batch: ``x`` of shape ``[n_0, B]``; bias gradients are summed over ``B``.
Everything runs on the inputs' device and dtype, and no input is modified.

This package imports torch and nothing of ``gradcheck``: the math stands alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["A", "Z", "forward", "forward_backward", "mse_loss"]


def Z(x: Tensor, W_l: Tensor, b_l: Tensor) -> Tensor:
    """Pre-activation z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, where ``x`` is a⁽ˡ⁻¹⁾ (``[n_l, B]``)."""
    return torch.matmul(W_l, x) + b_l


def A(z_l: Tensor) -> Tensor:
    """Sigmoid activation a⁽ˡ⁾ = σ(z⁽ˡ⁾)."""
    return torch.sigmoid(z_l)


def forward(x: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]) -> Tensor:
    """The network's output a⁽ᴸ⁾ for input ``x``."""
    a_l = x
    for W_l, b_l in zip(W, b):
        a_l = A(Z(a_l, W_l, b_l))
    return a_l


def mse_loss(a_L: Tensor, y: Tensor) -> Tensor:
    """The seed's elementwise half squared error ½ (a⁽ᴸ⁾ − ȳ)²; the loss is its sum."""
    return 0.5 * torch.pow(a_L - y, 2)


def forward_backward(
    x: Tensor,
    y: Tensor,
    W: Sequence[Tensor],
    b: Sequence[Tensor],
    verbose: bool = False,
) -> tuple[Tensor, list[Tensor], list[Tensor]]:
    """Loss ½‖a⁽ᴸ⁾ − ȳ‖² and its gradients with respect to every W⁽ˡ⁾ and b⁽ˡ⁾.

    Returns ``(loss, W_grads, b_grads)`` with ``loss`` a 0-d tensor and each gradient shaped like
    its parameter. ``verbose=True`` prints the seed's per-layer shape lines.
    """
    L = len(W) - 1
    if L < 0 or len(b) != len(W):
        raise ValueError(f"need as many weights as biases and at least one layer, got {len(W)} and {len(b)}")

    activations = [x]  # activations[l + 1] is a⁽ˡ⁾; activations[0] is a⁽⁻¹⁾ = x
    for l in range(L + 1):
        activations.append(A(Z(activations[l], W[l], b[l])))
    a_L = activations[-1]
    loss = mse_loss(a_L, y).sum()

    deltas: list[Tensor] = [None] * (L + 1)  # type: ignore[list-item]
    W_grads: list[Tensor] = [None] * (L + 1)  # type: ignore[list-item]
    b_grads: list[Tensor] = [None] * (L + 1)  # type: ignore[list-item]
    deltas[L] = (a_L - y) * a_L * (1 - a_L)  # δ⁽ᴸ⁾ = (a⁽ᴸ⁾ − ȳ) ∘ σ′
    for l in range(L, -1, -1):
        if l < L:  # δ⁽ˡ⁾ = ((W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾) ∘ σ′
            a_l = activations[l + 1]
            deltas[l] = torch.matmul(W[l + 1].T, deltas[l + 1]) * a_l * (1 - a_l)
        W_grads[l] = torch.matmul(deltas[l], activations[l].T)  # ∇W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ
        b_grads[l] = deltas[l].sum(dim=1, keepdim=True)  # ∇b⁽ˡ⁾ = Σ_batch δ⁽ˡ⁾

    if verbose:
        for l in range(L + 1):
            print(
                f"Layer: {l}, Shapes - W: {list(W[l].shape)}, W_grad: {list(W_grads[l].shape)}, "
                f"b: {list(b[l].shape)}, b_grad: {list(b_grads[l].shape)}, delta: {list(deltas[l].shape)}"
            )
    return loss, W_grads, b_grads
