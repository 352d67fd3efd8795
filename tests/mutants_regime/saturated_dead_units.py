"""Wrong only with saturated sigmoids, and only in a one-layer network.

Natural bug: the one-layer branch treats saturated units (|z| > 10) as "dead" and sets their σ′
to 0 to skip denormals, but the true gradient there is tiny, not zero, and float64 can tell.
The built-in saturated cases are all two or three layers deep and its one-layer cases have
|z| of a few units, so it passes; the smallest case is widths (1, 1) with saturated values.
"""
import torch

SHRINKS_TO = {"widths": (1, 1), "regime": "saturated"}


def forward_backward(x, y, W, b):
    acts, zs = [x], []
    for W_l, b_l in zip(W, b):
        zs.append(W_l @ acts[-1] + b_l)
        acts.append(torch.sigmoid(zs[-1]))
    a_L = acts[-1]
    loss = 0.5 * ((a_L - y) ** 2).sum()
    sigma_prime = a_L * (1 - a_L)
    if len(W) == 1:
        sigma_prime = torch.where(zs[0].abs() > 10, torch.zeros_like(sigma_prime), sigma_prime)
    delta = (a_L - y) * sigma_prime
    W_grads, b_grads = [None] * len(W), [None] * len(W)
    for l in reversed(range(len(W))):
        W_grads[l] = delta @ acts[l].T
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        if l > 0:
            delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
    return loss, W_grads, b_grads
