"""The same hand-written backpropagation, for the specifications beyond the seed.

Activations per layer (sigmoid, tanh, relu, leaky_relu, identity), losses (half squared error,
squared error, mean squared error, binary cross-entropy on a sigmoid output, softmax
cross-entropy on an identity output), sums or means over the batch and the outputs, and L2
regularisation. Plain keyword arguments, not gradcheck's ``Spec``: this package imports torch
and nothing of ``gradcheck``. Written out by hand, like the seed's, so that it is an opinion
independent of autograd's.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["activate", "derivative", "forward_backward"]


def activate(name: str, z: Tensor, slope: float = 0.01) -> Tensor:
    """f(z) for one of the activations."""
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "relu":
        return torch.relu(z)
    if name == "leaky_relu":
        return torch.where(z > 0, z, slope * z)
    if name == "identity":
        return z
    raise ValueError(f"unknown activation {name!r}")


def derivative(name: str, z: Tensor, a: Tensor, slope: float = 0.01) -> Tensor:
    """f′(z), written from the layer's own output where that is the classic form."""
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a * a
    if name == "relu":
        return (z > 0).to(z.dtype)
    if name == "leaky_relu":
        return torch.where(z > 0, torch.ones_like(z), torch.full_like(z, slope))
    return torch.ones_like(z)


def _output_delta(
    criterion: str, z_L: Tensor, a_L: Tensor, y: Tensor, output: str, slope: float, per_output: float
) -> Tensor:
    """δ⁽ᴸ⁾ = ∂(loss of each column)/∂z⁽ᴸ⁾, before any batch reduction."""
    if criterion == "softmax_ce":  # the softmax is part of the loss: δ = softmax(z) − ȳ
        return torch.softmax(z_L, dim=0) - y
    if criterion == "bce":  # on a sigmoid output the σ′ cancels: δ = a − ȳ
        return (a_L - y) * per_output
    factor = {"half_sse": 1.0, "sse": 2.0, "mse": 2.0}[criterion] * per_output
    return factor * (a_L - y) * derivative(output, z_L, a_L, slope)


def _column_losses(criterion: str, a_L: Tensor, y: Tensor, per_output: float) -> Tensor:
    if criterion == "softmax_ce":
        return -(y * torch.log_softmax(a_L, dim=0)).sum(dim=0)
    if criterion == "bce":
        entries = -(y * torch.log(a_L) + (1 - y) * torch.log1p(-a_L))
    else:
        entries = (a_L - y).pow(2) * (0.5 if criterion == "half_sse" else 1.0)
    return entries.sum(dim=0) * per_output


def forward_backward(
    x: Tensor,
    y: Tensor,
    W: Sequence[Tensor],
    b: Sequence[Tensor],
    *,
    hidden: str = "sigmoid",
    output: str = "sigmoid",
    hidden_slope: float = 0.01,
    output_slope: float = 0.01,
    criterion: str = "half_sse",
    batch_reduction: str = "sum",
    output_reduction: str = "sum",
    l2: float = 0.0,
    l2_form: str = "full",
    l2_biases: bool = False,
    l2_batch_mean: bool = False,
) -> tuple[Tensor, list[Tensor], list[Tensor]]:
    """Loss and gradients of every W⁽ˡ⁾ and b⁽ˡ⁾ (shaped like them) under the given contract."""
    L = len(W) - 1
    names = [hidden] * L + [output]
    slopes = [hidden_slope] * L + [output_slope]
    activations, zs = [x], []
    for l in range(L + 1):
        zs.append(W[l] @ activations[-1] + b[l])
        activations.append(activate(names[l], zs[-1], slopes[l]))
    batch = x.shape[1]
    per_output = 1.0 / y.shape[0] if criterion == "mse" or output_reduction == "mean" else 1.0
    per_example = 1.0 / batch if batch_reduction == "mean" else 1.0
    c = l2 * (0.5 if l2_form == "half" else 1.0) / (batch if l2_batch_mean else 1)

    data = _column_losses(criterion, activations[-1], y, per_output).sum() * per_example
    penalty = sum(w.pow(2).sum() for w in W) + (sum(v.pow(2).sum() for v in b) if l2_biases else 0.0)
    loss = data + c * penalty

    W_grads: list[Tensor] = [None] * (L + 1)  # type: ignore[list-item]
    b_grads: list[Tensor] = [None] * (L + 1)  # type: ignore[list-item]
    delta = _output_delta(criterion, zs[L], activations[-1], y, output, slopes[L], per_output) * per_example
    for l in range(L, -1, -1):
        if l < L:  # δ⁽ˡ⁾ = ((W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾) ∘ f′(z⁽ˡ⁾)
            delta = (W[l + 1].T @ delta) * derivative(names[l], zs[l], activations[l + 1], slopes[l])
        W_grads[l] = delta @ activations[l].T + 2 * c * W[l]
        b_grads[l] = delta.sum(dim=1, keepdim=True) + (2 * c * b[l] if l2_biases else 0.0)
    return loss, W_grads, b_grads
