"""Bug: sigma' of the wrong layer. The output layer's sigma', a(L)(1 - a(L)), is computed
once and reused in every hidden delta. With n_L = 1 it broadcasts silently, so the output
layer is right and layer L-1 is the first wrong one (with n_L > 1 it may even raise).
"""
import torch

EXPECTED = {
    "diagnosis": "wrong-activation-derivative",
    "check": "gradient-values",
    "layer": 1,
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
    dsig = a[L] * (1 - a[L])
    delta = (a[L] - y) * dsig
    for l in range(L, -1, -1):
        a_in = x if l == 0 else a[l - 1]
        W_grads[l] = delta @ a_in.T
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        if l > 0:
            delta = (W[l].T @ delta) * dsig
    return loss, W_grads, b_grads
