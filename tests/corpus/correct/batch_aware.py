"""Correct: written for batches. x is [n_0, B]; the bias gradient is delta @ 1_B, i.e. the
sum over the batch axis, using a ones vector made with the inputs' device and dtype."""
import torch

EXPECTED = None


def forward_backward(x, y, W, b):
    B = x.shape[1]
    ones = torch.ones(B, 1, dtype=x.dtype, device=x.device)
    acts = [x]
    for Wl, bl in zip(W, b):
        acts.append(torch.sigmoid(Wl @ acts[-1] + bl @ ones.T))  # explicit broadcast of b
    out = acts[-1]
    residual = out - y
    loss = 0.5 * (residual * residual).sum()

    L = len(W) - 1
    W_grads = [None] * (L + 1)
    b_grads = [None] * (L + 1)
    delta = residual * out * (1 - out)
    for l in range(L, -1, -1):
        W_grads[l] = delta @ acts[l].T      # sums the B outer products
        b_grads[l] = delta @ ones           # sums the B deltas: [n_{l+1}, 1]
        if l > 0:
            delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
    return loss, W_grads, b_grads
