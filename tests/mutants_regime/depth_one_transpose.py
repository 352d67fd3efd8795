"""Wrong only at depth 1, and only when that one layer is square.

Natural bug: the one-layer branch takes the outer product in the wrong order (x δᵀ) and then
transposes "until the shape fits". A non-square gradient gets transposed back and is right; a
square one already fits and stays transposed. The built-in one-layer cases are 4-3, 3-1 and 1-1
(a 1x1 transpose is itself), so they pass; the smallest case is widths (2, 2).
"""
import torch

SHRINKS_TO = {"widths": (2, 2)}


def forward_backward(x, y, W, b):
    acts = [x]
    for W_l, b_l in zip(W, b):
        acts.append(torch.sigmoid(W_l @ acts[-1] + b_l))
    a_L = acts[-1]
    loss = 0.5 * ((a_L - y) ** 2).sum()
    delta = (a_L - y) * a_L * (1 - a_L)
    if len(W) == 1:
        g = x @ delta.T
        if g.shape != W[0].shape:
            g = g.T
        return loss, [g], [delta.sum(dim=1, keepdim=True)]
    W_grads, b_grads = [None] * len(W), [None] * len(W)
    for l in reversed(range(len(W))):
        W_grads[l] = delta @ acts[l].T
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        if l > 0:
            delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
    return loss, W_grads, b_grads
