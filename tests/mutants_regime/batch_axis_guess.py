"""Wrong only with B > 1, and only when B equals a layer's width.

Natural bug: the bias gradient "accepts deltas laid out [B, n] as well as [n, B]" by summing
over whichever axis is not the units' axis, guessed from the shape. When B equals the layer's
width n the guess picks the units' axis. With B = 1 and n = 1 both sums agree. The built-in
batches (B = 4, 3, 2, 5, 3) never equal a layer width of their network, so they pass; the
smallest case is widths (1, 2) with B = 2. Check it with ``--batch``.
"""
import torch

SHRINKS_TO = {"widths": (1, 2), "batch": 2}


def _sum_over_batch(delta, n):
    return delta.sum(dim=0 if delta.shape[1] == n else 1).reshape(n, 1)


def forward_backward(x, y, W, b):
    acts = [x]
    for W_l, b_l in zip(W, b):
        acts.append(torch.sigmoid(W_l @ acts[-1] + b_l))
    a_L = acts[-1]
    loss = 0.5 * ((a_L - y) ** 2).sum()
    delta = (a_L - y) * a_L * (1 - a_L)
    W_grads, b_grads = [None] * len(W), [None] * len(W)
    for l in reversed(range(len(W))):
        W_grads[l] = delta @ acts[l].T
        b_grads[l] = _sum_over_batch(delta, b[l].shape[0])
        if l > 0:
            delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
    return loss, W_grads, b_grads
