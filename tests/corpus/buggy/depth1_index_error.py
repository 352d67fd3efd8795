"""Bug: the output layer is handled before the loop with hidden[-1], the last hidden
activation, where hidden = a[:L]. For a single layer (L = 0) hidden is empty and the call
raises IndexError. Deeper networks are right.
"""
import torch

EXPECTED = {
    "diagnosis": "exception",
    "check": "call",
    "layer": None,
    "param": None,
    "needs": ["depth1"],
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
    hidden = a[:L]
    W_grads[L] = delta @ hidden[-1].T  # IndexError when L == 0
    b_grads[L] = delta.sum(dim=1, keepdim=True)
    delta = (W[L].T @ delta) * a[L - 1] * (1 - a[L - 1])
    for l in range(L - 1, -1, -1):
        a_in = x if l == 0 else a[l - 1]
        W_grads[l] = delta @ a_in.T
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        if l > 0:
            delta = (W[l].T @ delta) * a[l - 1] * (1 - a[l - 1])
    return loss, W_grads, b_grads
