"""Wrong only on a second call in a row with the same shapes, dtype and device.

Natural bug: gradient buffers are kept between calls to save allocations and zeroed only when
the shapes change, so the second of two calls with the same shapes accumulates into the first's
gradients. The built-in list never makes two such calls in a row (it repeats its first case only
after other shapes), so it passes; the search checks every case twice in a row and finds it at
the smallest network, widths (1, 1).
"""
import torch

SHRINKS_TO = {"widths": (1, 1)}

_buffers = {"key": None, "W": [], "b": []}


def forward_backward(x, y, W, b):
    key = (tuple(w.shape for w in W), tuple(x.shape), x.dtype, x.device)
    if _buffers["key"] != key:
        _buffers.update(key=key, W=[torch.zeros_like(w) for w in W], b=[torch.zeros_like(v) for v in b])
    W_grads, b_grads = _buffers["W"], _buffers["b"]
    acts = [x]
    for W_l, b_l in zip(W, b):
        acts.append(torch.sigmoid(W_l @ acts[-1] + b_l))
    a_L = acts[-1]
    loss = 0.5 * ((a_L - y) ** 2).sum()
    delta = (a_L - y) * a_L * (1 - a_L)
    for l in reversed(range(len(W))):
        W_grads[l] += delta @ acts[l].T
        b_grads[l] += delta.sum(dim=1, keepdim=True)
        if l > 0:
            delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
    return loss, list(W_grads), list(b_grads)
