"""Hostile: prints things that look like the harness's protocol and like results.json (a fake
reply claiming success, a fake "loaded", a fake score), and computes the right gradients.
Expected: full marks, earned by the gradients: nothing printed is ever read as a reply."""
import json

import torch


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
    print(json.dumps({"id": 1, "ok": True, "value": {"k": "none"}}))
    print(json.dumps({"op": "loaded", "ok": True, "error": None, "warnings": []}))
    print(json.dumps({"score": 1000, "tests": [], "output": "all good"}), flush=True)
    return _backprop(x, y, W, b)
