"""Bug: bias gradient built as delta.sum(dim=1).squeeze().unsqueeze(1). For a width-1 layer
squeeze() gives a 0-d tensor and unsqueeze(1) raises IndexError.
"""
import torch

EXPECTED = {
    "diagnosis": "width-one-layer",
    "check": "call",
    "layer": None,
    "param": None,
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
        b_grads[l] = delta.sum(dim=1).squeeze().unsqueeze(1)
        if l > 0:
            delta = (W[l].T @ delta) * a[l - 1] * (1 - a[l - 1])
    return loss, W_grads, b_grads
