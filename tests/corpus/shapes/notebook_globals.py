"""A notebook exported to a script: parameters and gradients live in globals (written for
gradcheck's tests, in the style of course notebooks).

``backprop(X, Y)`` reads ``W1, b1, W2, b2`` as globals, returns the half-SSE loss and leaves
``dW1, db1, dW2, db2`` in globals. The notebook's own parameters (and the gradients of its own
run below) have other shapes and values than any case, so a check that passed on them would
prove nothing. Buggy variants:

* ``backprop_stale_W2``: propagates the error through ``W2_init``, the W2 captured when the
  cell ran, instead of the current ``W2``; dW2 and db2 are right, dW1 and db1 are not (in
  cases of the notebook's own widths 6, 8, 2; in others the shapes do not even fit).
* ``backprop_forgets_db2``: never assigns ``db2``, so only the stale value from the notebook's
  own run could make it look right.
* ``train_step()``: no arguments at all; reads X, Y and the parameters as globals and applies
  one SGD step (lr = 0.5), in place or by reassignment. ``train_step_typo`` forgets σ′ at the
  output, so every step it takes is off, the output layer's first.
"""

import numpy as np

rng = np.random.default_rng(1234)
X = rng.normal(size=(6, 10))
Y = rng.uniform(size=(2, 10))
W1 = rng.normal(size=(8, 6))
b1 = rng.normal(size=(8, 1))
W2 = rng.normal(size=(2, 8))
b2 = rng.normal(size=(2, 1))
W2_init = W2
LR = 0.5


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def backprop(X, Y):
    global dW1, db1, dW2, db2
    a1 = sigmoid(W1 @ X + b1)
    a2 = sigmoid(W2 @ a1 + b2)
    d2 = (a2 - Y) * a2 * (1 - a2)
    dW2 = d2 @ a1.T
    db2 = d2.sum(axis=1, keepdims=True)
    d1 = (W2.T @ d2) * a1 * (1 - a1)
    dW1 = d1 @ X.T
    db1 = d1.sum(axis=1, keepdims=True)
    return 0.5 * np.sum((a2 - Y) ** 2)


def backprop_stale_W2(X, Y):
    global dW1, db1, dW2, db2
    a1 = sigmoid(W1 @ X + b1)
    a2 = sigmoid(W2 @ a1 + b2)
    d2 = (a2 - Y) * a2 * (1 - a2)
    dW2 = d2 @ a1.T
    db2 = d2.sum(axis=1, keepdims=True)
    d1 = (W2_init.T @ d2) * a1 * (1 - a1)
    dW1 = d1 @ X.T
    db1 = d1.sum(axis=1, keepdims=True)
    return 0.5 * np.sum((a2 - Y) ** 2)


def backprop_forgets_db2(X, Y):
    global dW1, db1, dW2
    a1 = sigmoid(W1 @ X + b1)
    a2 = sigmoid(W2 @ a1 + b2)
    d2 = (a2 - Y) * a2 * (1 - a2)
    dW2 = d2 @ a1.T
    d1 = (W2.T @ d2) * a1 * (1 - a1)
    dW1 = d1 @ X.T
    db1 = d1.sum(axis=1, keepdims=True)
    return 0.5 * np.sum((a2 - Y) ** 2)


def train_step():
    global W1, b1, W2, b2
    loss = backprop(X, Y)
    W1 -= LR * dW1
    b1 -= LR * db1
    W2 = W2 - LR * dW2
    b2 = b2 - LR * db2
    return loss


def train_step_typo():
    global W1, b1, W2, b2
    a1 = sigmoid(W1 @ X + b1)
    a2 = sigmoid(W2 @ a1 + b2)
    d2 = a2 - Y
    d1 = (W2.T @ d2) * a1 * (1 - a1)
    W2 = W2 - LR * (d2 @ a1.T)
    b2 = b2 - LR * d2.sum(axis=1, keepdims=True)
    W1 = W1 - LR * (d1 @ X.T)
    b1 = b1 - LR * d1.sum(axis=1, keepdims=True)
    return 0.5 * np.sum((a2 - Y) ** 2)


backprop(X, Y)  # the notebook's own run: leaves dW1, db1, dW2, db2 in globals
