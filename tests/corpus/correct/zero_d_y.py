"""Correct: accepts the seed's 0-d y explicitly (reshaped to the output's shape before use)
and computes the loss with torch.nn.functional.mse_loss(reduction="sum") / 2."""
import torch
import torch.nn.functional as F

EXPECTED = None


def forward_backward(x, y, W, b):
    acts = [x]
    for Wl, bl in zip(W, b):
        acts.append(torch.sigmoid(Wl @ acts[-1] + bl))
    out = acts[-1]
    if y.dim() == 0:  # the seed passes y = torch.tensor(7.9) when n_L = 1
        y = y.reshape(1, 1).expand_as(out)
    loss = F.mse_loss(out, y, reduction="sum") / 2

    L = len(W) - 1
    W_grads = [None] * (L + 1)
    b_grads = [None] * (L + 1)
    delta = (out - y) * out * (1 - out)
    for l in range(L, -1, -1):
        W_grads[l] = delta @ acts[l].T
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        if l > 0:
            delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
    return loss, W_grads, b_grads
