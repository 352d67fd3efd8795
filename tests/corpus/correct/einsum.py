"""Correct: every product written with torch.einsum (i = out unit, j = in unit, n = example)."""
import torch

EXPECTED = None


def forward_backward(x, y, W, b):
    acts = [x]
    for Wl, bl in zip(W, b):
        z = torch.einsum("ij,jn->in", Wl, acts[-1]) + bl
        acts.append(torch.sigmoid(z))
    a_out = acts[-1]
    r = a_out - y  # broadcasting also turns a 0-d y into [1, 1]
    loss = 0.5 * torch.einsum("in,in->", r, r)

    W_grads, b_grads = [], []
    delta = (a_out - y) * a_out * (1 - a_out)
    for l in reversed(range(len(W))):
        W_grads.insert(0, torch.einsum("in,jn->ij", delta, acts[l]))
        b_grads.insert(0, torch.einsum("in->i", delta).unsqueeze(1))
        if l:
            delta = torch.einsum("ij,in->jn", W[l], delta) * acts[l] * (1 - acts[l])
    return loss, W_grads, b_grads
