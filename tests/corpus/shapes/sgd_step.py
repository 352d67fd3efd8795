"""A training step that updates the parameters in place and returns nothing (written for
gradcheck's tests): numpy, column vectors, sigmoid, 1/2 sum (a - y)^2, one SGD step with lr 0.1.

``train_step_ascends_last_bias`` adds the last bias's gradient instead of subtracting it.
"""

import numpy as np

LR = 0.1


def _step(x, y, W, b, lr, last_bias_sign):
    acts = [x]
    for W_l, b_l in zip(W, b):
        acts.append(1.0 / (1.0 + np.exp(-(W_l @ acts[-1] + b_l))))
    out = acts[-1]
    delta = (out - y) * out * (1 - out)
    updates = []
    for l in reversed(range(len(W))):
        updates.append((l, delta @ acts[l].T, delta.sum(axis=1, keepdims=True)))
        if l:
            delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
    for l, dW, db in updates:
        W[l] -= lr * dW
        b[l] -= (last_bias_sign if l == len(W) - 1 else 1) * lr * db


def train_step(x, y, W, b, lr=LR):
    _step(x, y, W, b, lr, 1)


def train_step_ascends_last_bias(x, y, W, b, lr=LR):
    _step(x, y, W, b, lr, -1)
