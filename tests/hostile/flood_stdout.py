"""Hostile: floods stdout (64 MB while loading, 100 kB per call), but computes the right
gradients. Expected: full marks (printing is no crime), the output kept is capped, the
grader's memory and files stay small."""
import sys

import torch

for _ in range(64):
    sys.stdout.write("x" * (1 << 20))


def _backprop(x, y, W, b):
    """A correct forward_backward (each hostile file carries its own copy: nothing is shared)."""
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


def forward_backward(x, y, W, b):
    print("y" * 100_000)
    return _backprop(x, y, W, b)
