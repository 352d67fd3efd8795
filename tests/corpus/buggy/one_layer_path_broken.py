"""Bug: a special-case shortcut for a single layer (L = 0) that forgets sigma' in its delta.
Networks with two or more layers take the general path and are right.
"""
import torch

EXPECTED = {
    "diagnosis": "wrong-depth-handling",
    "check": "gradient-values",
    "layer": 0,
    "param": "W",
    "needs": ["depth1"],
}


def forward_backward(x, y, W, b):
    L = len(W) - 1
    if L == 0:  # single layer: shortcut
        a0 = torch.sigmoid(W[0] @ x + b[0])
        delta = a0 - y
        return 0.5 * ((a0 - y) ** 2).sum(), [delta @ x.T], [delta.sum(dim=1, keepdim=True)]
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
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        if l > 0:
            delta = (W[l].T @ delta) * a[l - 1] * (1 - a[l - 1])
    return loss, W_grads, b_grads
