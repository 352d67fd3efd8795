"""Wrong only at depth >= 3, and only when the first layer widens (n_1 > n_0).

Injected fault: δ⁽⁰⁾ loses its σ′ factor in deep networks whose first hidden layer is wider than
the input. Every deep network of the built-in list (7-5-3-1, 5-4-3-2-3, 6-5-4-3-2-1, 3-1-4-2,
4-4-4-4) keeps or narrows its first layer, so it passes; the smallest case is widths (1, 2, 1, 1).
"""
import torch

SHRINKS_TO = {"widths": (1, 2, 1, 1)}


def forward_backward(x, y, W, b):
    acts = [x]
    for W_l, b_l in zip(W, b):
        acts.append(torch.sigmoid(W_l @ acts[-1] + b_l))
    a_L = acts[-1]
    loss = 0.5 * ((a_L - y) ** 2).sum()
    delta = (a_L - y) * a_L * (1 - a_L)
    deep_and_widening = len(W) >= 3 and W[0].shape[0] > W[0].shape[1]
    W_grads, b_grads = [None] * len(W), [None] * len(W)
    for l in reversed(range(len(W))):
        W_grads[l] = delta @ acts[l].T
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        if l == 1 and deep_and_widening:
            delta = W[l].T @ delta  # σ′ forgotten
        elif l > 0:
            delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
    return loss, W_grads, b_grads
