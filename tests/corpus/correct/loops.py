"""Correct: plain Python loops, one training example (batch column) at a time.

Each column of x is forwarded and backpropagated on its own, and the per-example
gradients are added up, so the bias gradients come out summed over the batch.
"""
import torch

EXPECTED = None


def forward_backward(x, y, W, b):
    n_layers = len(W)
    W_grads = [torch.zeros_like(w) for w in W]
    b_grads = [torch.zeros_like(c) for c in b]
    y = y.expand(W[-1].shape[0], x.shape[1])  # a 0-d y becomes [1, 1]
    loss = torch.zeros((), dtype=x.dtype, device=x.device)

    for j in range(x.shape[1]):
        a_in = x[:, j:j + 1]
        inputs = []
        for l in range(n_layers):
            inputs.append(a_in)
            a_in = torch.sigmoid(W[l] @ a_in + b[l])
        a_out = a_in
        err = a_out - y[:, j:j + 1]
        loss = loss + 0.5 * (err * err).sum()

        delta = err * a_out * (1 - a_out)
        for l in range(n_layers - 1, -1, -1):
            W_grads[l] = W_grads[l] + delta @ inputs[l].T
            b_grads[l] = b_grads[l] + delta
            if l > 0:
                a_l = inputs[l]
                delta = (W[l].T @ delta) * a_l * (1 - a_l)
    return loss, W_grads, b_grads
