"""Correct: returns tuples (built by prepending) instead of lists, and the loss as a
Python-free 0-d tensor."""
import torch

EXPECTED = None


def forward_backward(x, y, W, b):
    acts = (x,)
    for Wl, bl in zip(W, b):
        acts = acts + (torch.sigmoid(torch.matmul(Wl, acts[-1]) + bl),)
    out = acts[-1]
    loss = (out - y).pow(2).sum().mul(0.5)

    W_grads, b_grads = (), ()
    delta = (out - y) * out * (1.0 - out)
    for l in range(len(W) - 1, -1, -1):
        W_grads = (torch.matmul(delta, acts[l].transpose(0, 1)),) + W_grads
        b_grads = (delta.sum(dim=1, keepdim=True),) + b_grads
        delta = torch.matmul(W[l].transpose(0, 1), delta) * acts[l] * (1.0 - acts[l])
    return loss, W_grads, b_grads
