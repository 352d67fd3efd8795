"""Bug: wraps the weight gradients in torch.nn.Parameter (a Tensor subclass that requires
grad) "so an optimizer can use them". The contract asks for plain torch.Tensor.
"""
import torch

EXPECTED = {
    "diagnosis": "unclassified",
    "check": "gradient-types",
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
    delta = (a[L] - y) * a[L] * (1 - a[L])
    for l in range(L, -1, -1):
        a_in = x if l == 0 else a[l - 1]
        W_grads[l] = delta @ a_in.T
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        if l > 0:
            delta = (W[l].T @ delta) * a[l - 1] * (1 - a[l - 1])
    return loss, [torch.nn.Parameter(g) for g in W_grads], b_grads
