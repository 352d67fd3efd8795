"""Correct: recursion. Each call does one layer's forward step, recurses into the layers
above it, and on the way back turns the upstream gradient into this layer's gradients."""
import torch

EXPECTED = None


def _layer(l, a_prev, y, W, b, W_grads, b_grads):
    """Returns (loss, dL/da_prev) and fills in W_grads[l], b_grads[l]."""
    a = torch.sigmoid(W[l] @ a_prev + b[l])
    if l == len(W) - 1:
        loss = 0.5 * ((a - y) ** 2).sum()
        grad_a = a - y
    else:
        loss, grad_a = _layer(l + 1, a, y, W, b, W_grads, b_grads)
    delta = grad_a * a * (1 - a)
    W_grads[l] = delta @ a_prev.T
    b_grads[l] = delta.sum(dim=1, keepdim=True)
    return loss, W[l].T @ delta


def forward_backward(x, y, W, b):
    W_grads = [None] * len(W)
    b_grads = [None] * len(W)
    loss, _ = _layer(0, x, y, W, b, W_grads, b_grads)
    return loss, W_grads, b_grads
