"""A sigmoid network without biases, numpy, column vectors (written for gradcheck's tests).

``forward_backward(x, y, W)`` returns ``(loss, W_grads)`` for z = W a (no b), loss 1/2 sum (a - y)^2.
``forward_backward_prime_of_output`` takes the sigmoid's derivative of a instead of z in the
hidden layers: sigma'(a) instead of a (1 - a), so only the hidden layers' gradients are wrong.
"""

import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _run(x, y, W, hidden_prime):
    acts = [x]
    for W_l in W:
        acts.append(_sigmoid(W_l @ acts[-1]))
    out = acts[-1]
    loss = 0.5 * np.sum((out - y) ** 2)
    delta = (out - y) * out * (1 - out)
    grads = [None] * len(W)
    for l in reversed(range(len(W))):
        grads[l] = delta @ acts[l].T
        if l:
            delta = (W[l].T @ delta) * hidden_prime(acts[l])
    return loss, grads


def forward_backward(x, y, W):
    return _run(x, y, W, lambda a: a * (1 - a))


def forward_backward_prime_of_output(x, y, W):
    return _run(x, y, W, lambda a: _sigmoid(a) * (1 - _sigmoid(a)))
