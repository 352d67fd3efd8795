"""Bug: bias gradient built as delta.sum(dim=1).squeeze()[..., None]. The bare squeeze()
also drops the unit axis of a width-1 layer, so such a layer gets a bias gradient of
shape [1] instead of [1, 1]. In [7, 5, 3, 1] that is the output layer's bias.
"""
import torch

EXPECTED = {
    "diagnosis": "width-one-layer",
    "check": "gradient-shapes",
    "layer": 2,
    "param": "b",
    "needs": ["width1"],
}


def forward_backward(x, y, W, b):
    L = len(W) - 1
    a = []  # a[l] = sigmoid(W[l] @ a[l-1] + b[l]); the input of layer 0 is x
    a_prev = x
    for l in range(L + 1):
        z = W[l] @ a_prev + b[l]
        a_prev = torch.sigmoid(z)
        a.append(a_prev)
    loss = 0.5 * ((a[L] - y) ** 2).sum()

    W_grads = [None] * (L + 1)
    b_grads = [None] * (L + 1)
    delta = (a[L] - y) * a[L] * (1 - a[L])
    for l in range(L, -1, -1):
        a_in = x if l == 0 else a[l - 1]
        W_grads[l] = delta @ a_in.T
        b_grads[l] = delta.sum(dim=1).squeeze()[..., None]
        if l > 0:
            delta = (W[l].T @ delta) * a[l - 1] * (1 - a[l - 1])
    return loss, W_grads, b_grads
