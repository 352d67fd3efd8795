"""Bug: uses tanh's derivative 1 - a^2 in place of sigmoid's a(1 - a), in every delta.
"""
import torch

EXPECTED = {
    "diagnosis": "wrong-activation-derivative",
    "check": "gradient-values",
    "layer": 2,
    "param": "W",
    "needs": [],
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
    delta = (a[L] - y) * (1 - a[L] ** 2)
    for l in range(L, -1, -1):
        a_in = x if l == 0 else a[l - 1]
        W_grads[l] = delta @ a_in.T
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        if l > 0:
            delta = (W[l].T @ delta) * (1 - a[l - 1] ** 2)
    return loss, W_grads, b_grads
