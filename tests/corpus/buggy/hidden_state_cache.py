"""Bug: memoises the forward pass in a module-level cache keyed by the SHAPES (plus dtype
and device) of the inputs. The first call is right; a later call with the same shapes but
other values reuses the stale activations, so its loss and gradients are wrong.
"""
import torch

EXPECTED = {
    "diagnosis": "hidden-state",
    "check": "hidden-state",
    "layer": None,
    "param": None,
    "needs": ["second-call"],
}

_ACTIVATIONS = {}  # shapes -> list of activations (the bug: never invalidated)


def _forward(x, W, b):
    key = (x.dtype, str(x.device), tuple(x.shape)) + tuple(tuple(w.shape) for w in W)
    if key not in _ACTIVATIONS:
        acts = [x]
        for Wl, bl in zip(W, b):
            acts.append(torch.sigmoid(Wl @ acts[-1] + bl))
        _ACTIVATIONS[key] = acts
    return _ACTIVATIONS[key]


def forward_backward(x, y, W, b):
    acts = _forward(x, W, b)
    out = acts[-1]
    loss = 0.5 * ((out - y) ** 2).sum()
    W_grads, b_grads = [None] * len(W), [None] * len(W)
    delta = (out - y) * out * (1 - out)
    for l in range(len(W) - 1, -1, -1):
        W_grads[l] = delta @ acts[l].T
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
    return loss, W_grads, b_grads
