"""Training steps in several styles (written for gradcheck's tests), each updating its
parameters in place and returning nothing: sigmoid, 1/2 sum (a - y)^2, one plain SGD step.

At lr 0.01 a step's update is small next to |W|, so the gradient read back as (W - W')/lr
carries the round-off of W' magnified 100 times: the harness must allow for that, not blame it.

``torch_step_wrong_first_weight`` drops the input from layer 0's weight update (uses ones).
``numpy_step_clipped`` clips every gradient to [-1, 1] before the update.
"""

import numpy as np
import torch


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _numpy_grads(x, y, W, b):
    acts = [x]
    for W_l, b_l in zip(W, b):
        acts.append(_sigmoid(W_l @ acts[-1] + b_l))
    delta = (acts[-1] - y) * acts[-1] * (1 - acts[-1])
    grads = [None] * len(W)
    for l in range(len(W) - 1, -1, -1):
        grads[l] = (delta @ acts[l].T, delta.sum(axis=1, keepdims=True))
        if l:
            delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
    return grads


def numpy_step_small_lr(x, y, W, b, lr=0.01):
    for l, (dW, db) in enumerate(_numpy_grads(x, y, W, b)):
        W[l] -= lr * dW
        b[l] -= lr * db


def numpy_step_unit_lr(x, y, W, b, lr=1.0):
    numpy_step_small_lr(x, y, W, b, lr)


def numpy_step_clipped(x, y, W, b, lr=0.01):
    for l, (dW, db) in enumerate(_numpy_grads(x, y, W, b)):
        W[l] -= lr * np.clip(dW, -1.0, 1.0)
        b[l] -= lr * np.clip(db, -1.0, 1.0)


def _torch_step(x, y, W, b, lr, first_input_ones=False):
    with torch.no_grad():
        acts = [x]
        for W_l, b_l in zip(W, b):
            acts.append(torch.sigmoid(W_l @ acts[-1] + b_l))
        delta = (acts[-1] - y) * acts[-1] * (1 - acts[-1])
        steps = []
        for l in reversed(range(len(W))):
            below = torch.ones_like(acts[l]) if (l == 0 and first_input_ones) else acts[l]
            steps.append((l, delta @ below.T, delta.sum(dim=1, keepdim=True)))
            if l:
                delta = (W[l].T @ delta) * acts[l] * (1 - acts[l])
        for l, dW, db in steps:
            W[l].sub_(lr * dW)
            b[l].sub_(lr * db)


def torch_step_small_lr(x, y, W, b):
    _torch_step(x, y, W, b, 0.01)


def torch_step_wrong_first_weight(x, y, W, b):
    _torch_step(x, y, W, b, 0.01, first_input_ones=True)
