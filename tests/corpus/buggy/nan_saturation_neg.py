"""Bug: the output layer's sigma'(z) is written by hand as exp(-z) / (1 + exp(-z))^2 (the
hidden layers use a(1 - a)). When the output saturates with z << 0 (z < -89 in float32,
< -710 in float64) exp(-z) overflows and inf/inf gives NaN where the true value is ~0;
the NaN starts in delta(L) and spreads to every layer below.
"""
import torch

EXPECTED = {
    "diagnosis": "numerical-instability",
    "check": "finite",
    "layer": 2,
    "param": "W",
    "needs": ["saturation"],
}


def forward_backward(x, y, W, b):
    L = len(W) - 1
    zs = []
    a = []  # a[l] = sigmoid(W[l] @ a[l-1] + b[l]); the input of layer 0 is x
    a_prev = x
    for l in range(L + 1):
        z = W[l] @ a_prev + b[l]
        zs.append(z)
        a_prev = torch.sigmoid(z)
        a.append(a_prev)
    loss = 0.5 * ((a[L] - y) ** 2).sum()

    W_grads = [None] * (L + 1)
    b_grads = [None] * (L + 1)
    delta = (a[L] - y) * torch.exp(-zs[L]) / (1 + torch.exp(-zs[L])) ** 2
    for l in range(L, -1, -1):
        a_in = x if l == 0 else a[l - 1]
        W_grads[l] = delta @ a_in.T
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        if l > 0:
            delta = (W[l].T @ delta) * a[l - 1] * (1 - a[l - 1])
    return loss, W_grads, b_grads
