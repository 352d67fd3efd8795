"""The seed's forward_backward(x, y, W, b) written in numpy (for gradcheck's tests).

Column vectors x [n_0, B], W[l] [n_{l+1}, n_l], b[l] [n_{l+1}, 1]; sigmoid; 1/2 sum (a - y)^2.
``forward_backward_all_over_n`` averages every gradient over the batch while the loss is summed.
"""

import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _backprop(x, y, W, b, scale):
    activations = [x]
    for W_l, b_l in zip(W, b):
        activations.append(_sigmoid(W_l @ activations[-1] + b_l))
    a = activations[-1]
    loss = 0.5 * np.sum((a - y) ** 2)
    W_grads, b_grads = [None] * len(W), [None] * len(W)
    delta = (a - y) * a * (1 - a)
    for l in range(len(W) - 1, -1, -1):
        if l < len(W) - 1:
            a_l = activations[l + 1]
            delta = (W[l + 1].T @ delta) * a_l * (1 - a_l)
        W_grads[l] = scale * (delta @ activations[l].T)
        b_grads[l] = scale * np.sum(delta, axis=1, keepdims=True)
    return loss, W_grads, b_grads


def forward_backward(x, y, W, b):
    return _backprop(x, y, W, b, 1.0)


def forward_backward_all_over_n(x, y, W, b):
    return _backprop(x, y, W, b, 1.0 / x.shape[1])


def forward_backward_returns_lists_of_lists(x, y, W, b):
    loss, W_grads, b_grads = _backprop(x, y, W, b, 1.0)
    return loss, [g.tolist() for g in W_grads], b_grads
