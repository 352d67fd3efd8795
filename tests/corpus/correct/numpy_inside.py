"""Correct: moves everything to the CPU as numpy arrays, backpropagates in numpy, and moves
the results back to the inputs' device and dtype."""
import numpy as np
import torch

EXPECTED = None


def _np(t):
    return t.detach().cpu().numpy()


def forward_backward(x, y, W, b):
    device, dtype = x.device, x.dtype
    xs, ys = _np(x), _np(y)
    Ws, bs = [_np(w) for w in W], [_np(c) for c in b]

    acts = [xs]
    for w, c in zip(Ws, bs):
        z = w @ acts[-1] + c
        acts.append(0.5 * (1.0 + np.tanh(0.5 * z)))  # sigmoid, without overflow warnings
    out = acts[-1]
    loss = 0.5 * np.sum((out - ys) ** 2)

    W_grads, b_grads = [None] * len(Ws), [None] * len(Ws)
    delta = (out - ys) * out * (1 - out)
    for l in range(len(Ws) - 1, -1, -1):
        W_grads[l] = delta @ acts[l].T
        b_grads[l] = delta.sum(axis=1, keepdims=True)
        delta = (Ws[l].T @ delta) * acts[l] * (1 - acts[l])

    def back(arr):
        return torch.as_tensor(np.asarray(arr)).to(device=device, dtype=dtype)

    return back(loss), [back(g) for g in W_grads], [back(g) for g in b_grads]
