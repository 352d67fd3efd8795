"""Coursera-ML-style: biases folded into Theta as its first column (written for gradcheck's tests).

Row-major X [m, n_0]; each Theta_l is [n_{l+1}, n_l + 1] and multiplies [1, a]; sigmoid, loss
1/2 sum (h - Y)^2 over every example and output. ``cost_function(X, Y, Thetas)`` returns
``(J, Theta_grads)``. ``cost_function_drops_first_bias`` zeroes the bias column of the first
layer's gradient (the "skip the bias column" slip, applied one place too early).
"""

import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _with_ones(A):
    return np.hstack([np.ones((A.shape[0], 1)), A])


def _cost(X, Y, Thetas, drop_first_bias):
    acts = [X]
    for Theta in Thetas:
        acts.append(_sigmoid(_with_ones(acts[-1]) @ Theta.T))
    H = acts[-1]
    J = 0.5 * np.sum((H - Y) ** 2)
    delta = (H - Y) * H * (1 - H)
    grads = [None] * len(Thetas)
    for l in reversed(range(len(Thetas))):
        grads[l] = delta.T @ _with_ones(acts[l])
        if l:
            delta = (delta @ Thetas[l][:, 1:]) * acts[l] * (1 - acts[l])
    if drop_first_bias:
        grads[0][:, 0] = 0.0
    return J, grads


def cost_function(X, Y, Thetas):
    return _cost(X, Y, Thetas, False)


def cost_function_drops_first_bias(X, Y, Thetas):
    return _cost(X, Y, Thetas, True)
