"""Wrong only with a width-1 input (n_0 = 1) feeding a wider layer.

Injected fault: a "scalar input" shortcut builds ∇W⁽⁰⁾ as (Σ_units δ⁽⁰⁾) xᵀ, spread over every
row. With n_1 = 1 the sum is the single unit, so it is right; the built-in list's width-1 inputs
are only in 1-1 and 1-1-1, so it passes. The smallest case is widths (1, 2).
"""
import torch

SHRINKS_TO = {"widths": (1, 2)}


def forward_backward(x, y, W, b):
    acts = [x]
    for W_l, b_l in zip(W, b):
        acts.append(torch.sigmoid(W_l @ acts[-1] + b_l))
    a_L = acts[-1]
    loss = 0.5 * ((a_L - y) ** 2).sum()
    delta = (a_L - y) * a_L * (1 - a_L)
    W_grads, b_grads = [None] * len(W), [None] * len(W)
    for l in reversed(range(len(W))):
        W_grads[l] = delta @ acts[l].T
        if l == 0 and x.shape[0] == 1:  # a scalar input: one weight per unit, "same signal"
            W_grads[l] = (delta.sum(dim=0, keepdim=True) @ x.T).expand_as(W[0]).clone()
        b_grads[l] = delta.sum(dim=1, keepdim=True)
        if l > 0:
            delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
    return loss, W_grads, b_grads
