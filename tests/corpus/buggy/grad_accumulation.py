"""Bug: accumulates gradients across calls, like training code that never zeroes its
gradient buffers. The buffers live in a module-level dict keyed by the shapes (plus dtype
and device): the first call is right; a later call with the same shapes returns the sum of
both calls' gradients.
"""
import torch

EXPECTED = {
    "diagnosis": "hidden-state",
    "check": "hidden-state",
    "layer": None,
    "param": None,
    "needs": ["second-call"],
}

_GRAD_BUFFERS = {}  # shapes -> (W_grads, b_grads); the bug: never zeroed between calls


def forward_backward(x, y, W, b):
    key = (x.dtype, str(x.device)) + tuple(tuple(w.shape) for w in W)
    if key not in _GRAD_BUFFERS:
        _GRAD_BUFFERS[key] = ([torch.zeros_like(w) for w in W], [torch.zeros_like(c) for c in b])
    W_acc, b_acc = _GRAD_BUFFERS[key]

    acts = [x]
    for Wl, bl in zip(W, b):
        acts.append(torch.sigmoid(Wl @ acts[-1] + bl))
    out = acts[-1]
    loss = 0.5 * ((out - y) ** 2).sum()
    delta = (out - y) * out * (1 - out)
    for l in range(len(W) - 1, -1, -1):
        W_acc[l] += delta @ acts[l].T
        b_acc[l] += delta.sum(dim=1, keepdim=True)
        delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
    return loss, [g.clone() for g in W_acc], [g.clone() for g in b_acc]
