"""Correct: computes everything in float64 internally, then casts every result back
to the inputs' dtype (and keeps the inputs' device)."""
import torch

EXPECTED = None


def forward_backward(x, y, W, b):
    dtype = x.dtype
    x64, y64 = x.double(), y.double()
    W64 = [w.double() for w in W]
    b64 = [c.double() for c in b]

    acts = [x64]
    for w, c in zip(W64, b64):
        acts.append(torch.sigmoid(w @ acts[-1] + c))
    out = acts[-1]
    loss = 0.5 * ((out - y64) ** 2).sum()

    W_grads = [None] * len(W)
    b_grads = [None] * len(W)
    delta = (out - y64) * out * (1 - out)
    for l in range(len(W) - 1, -1, -1):
        W_grads[l] = (delta @ acts[l].T).to(dtype)
        b_grads[l] = delta.sum(dim=1, keepdim=True).to(dtype)
        delta = (W64[l].T @ delta) * acts[l] * (1 - acts[l])
    return loss.to(dtype), W_grads, b_grads
