"""Bug: the network depth is hard-coded to the seed's three layers (W0, W1, W2 = W).
Right for exactly three weight matrices; any other depth raises ValueError on unpacking.
"""
import torch

EXPECTED = {
    "diagnosis": "wrong-depth-handling",
    "check": "call",
    "layer": None,
    "param": None,
    "needs": ["depth!=3"],
}


def forward_backward(x, y, W, b):
    W0, W1, W2 = W
    b0, b1, b2 = b
    a0 = torch.sigmoid(W0 @ x + b0)
    a1 = torch.sigmoid(W1 @ a0 + b1)
    a2 = torch.sigmoid(W2 @ a1 + b2)
    loss = 0.5 * ((a2 - y) ** 2).sum()

    d2 = (a2 - y) * a2 * (1 - a2)
    d1 = (W2.T @ d2) * a1 * (1 - a1)
    d0 = (W1.T @ d1) * a0 * (1 - a0)
    W_grads = [d0 @ x.T, d1 @ a0.T, d2 @ a1.T]
    b_grads = [d.sum(dim=1, keepdim=True) for d in (d0, d1, d2)]
    return loss, W_grads, b_grads
