"""Wrong only on CUDA: the bias gradients are made with ``torch.zeros(..., dtype=...)`` and no
``device=``, then filled in place, so on a GPU they come back on the CPU. Right on the CPU.
"""
import torch

SHRINKS_TO = {"widths": (1, 1)}


def forward_backward(x, y, W, b):
    acts = [x]
    for W_l, b_l in zip(W, b):
        acts.append(torch.sigmoid(W_l @ acts[-1] + b_l))
    a_L = acts[-1]
    loss = 0.5 * ((a_L - y) ** 2).sum()
    delta = (a_L - y) * a_L * (1 - a_L)
    W_grads = [None] * len(W)
    b_grads = [torch.zeros(v.shape, dtype=v.dtype) for v in b]  # no device=
    for l in reversed(range(len(W))):
        W_grads[l] = delta @ acts[l].T
        b_grads[l].copy_(delta.sum(dim=1, keepdim=True))
        if l > 0:
            delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
    return loss, W_grads, b_grads
