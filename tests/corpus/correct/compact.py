"""Correct: the seed's equations in a dozen lines, batch-aware (the grading tests' stock submission)."""
import torch

EXPECTED = None


def forward_backward(x, y, W, b):
    a = [x]
    for W_l, b_l in zip(W, b):
        a.append(torch.sigmoid(W_l @ a[-1] + b_l))
    out = a[-1]
    loss = 0.5 * ((out - y) ** 2).sum()
    delta = (out - y) * out * (1 - out)
    W_grads, b_grads = [None] * len(W), [None] * len(W)
    for l in reversed(range(len(W))):
        W_grads[l] = delta @ a[l].T
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        if l:
            delta = (W[l].T @ delta) * a[l] * (1 - a[l])
    return loss, W_grads, b_grads
