"""A whole two-layer network's loss as one torch.autograd.Function, with a hand-written backward.

Written for gradcheck's tests: row-major X [B, in], W [in, out], b [out]; sigmoid layers and
½ Σ (A2 - Y)². ``TwoLayerLoss`` is right; ``NoPrimeLoss`` forgets σ′ in the hidden layer's δ.
"""

import torch


def _sigmoid(z):
    return 1.0 / (1.0 + torch.exp(-z))


class TwoLayerLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, Y, W1, b1, W2, b2):
        A1 = _sigmoid(X @ W1 + b1)
        A2 = _sigmoid(A1 @ W2 + b2)
        ctx.save_for_backward(X, Y, W2, A1, A2)
        return 0.5 * ((A2 - Y) ** 2).sum()

    @staticmethod
    def backward(ctx, grad_loss):
        X, Y, W2, A1, A2 = ctx.saved_tensors
        dZ2 = (A2 - Y) * A2 * (1 - A2) * grad_loss
        dZ1 = (dZ2 @ W2.T) * A1 * (1 - A1)
        return None, None, X.T @ dZ1, dZ1.sum(0), A1.T @ dZ2, dZ2.sum(0)


class NoPrimeLoss(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, Y, W1, b1, W2, b2):
        A1 = _sigmoid(X @ W1 + b1)
        A2 = _sigmoid(A1 @ W2 + b2)
        ctx.save_for_backward(X, Y, W2, A1, A2)
        return 0.5 * ((A2 - Y) ** 2).sum()

    @staticmethod
    def backward(ctx, grad_loss):
        X, Y, W2, A1, A2 = ctx.saved_tensors
        dZ2 = (A2 - Y) * A2 * (1 - A2) * grad_loss
        dZ1 = dZ2 @ W2.T
        return None, None, X.T @ dZ1, dZ1.sum(0), A1.T @ dZ2, dZ2.sum(0)
