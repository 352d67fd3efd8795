"""Wrong only when n_L == n_0 (an autoencoder shape) with a narrower layer in between.

Injected fault: in "autoencoder mode" (the target has the input's shape and the network has a
bottleneck) ∇W⁽⁰⁾ is built from the reconstruction a⁽ᴸ⁾ instead of x: the seed's ``a[l-1]`` at
``l = 0``, which only fits when n_L == n_0. The built-in square cases (1-1, 1-1-1, 4-4-4-4,
3-5-3, 3-4-3, 2-3-2) never narrow, so they pass; the smallest case is widths (2, 1, 2).
"""
import torch

SHRINKS_TO = {"widths": (2, 1, 2)}


def forward_backward(x, y, W, b):
    acts = [x]
    for W_l, b_l in zip(W, b):
        acts.append(torch.sigmoid(W_l @ acts[-1] + b_l))
    a_L = acts[-1]
    if y.shape == x.shape and any(w.shape[0] < x.shape[0] for w in W[:-1]):
        acts[0] = a_L  # "input ≈ reconstruction"
    loss = 0.5 * ((a_L - y) ** 2).sum()
    delta = (a_L - y) * a_L * (1 - a_L)
    W_grads, b_grads = [None] * len(W), [None] * len(W)
    for l in reversed(range(len(W))):
        W_grads[l] = delta @ acts[l].T
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        if l > 0:
            delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
    return loss, W_grads, b_grads
