"""A deeplearning.ai-style L-layer model in one function (written for gradcheck's tests).

Column-major X [n_0, m], parameters {"W1": [n_1, n_0], "b1": [n_1, 1], ...}; ReLU hidden layers,
sigmoid output, cross-entropy cost averaged over m. ``model(X, Y, parameters)`` returns
``(cost, grads)`` with grads keyed dW1, db1, ... ``model_with_planted_bugs`` has the gradient
checking notebook's planted mistakes: dW2 exactly 2x and db1 exactly 4x.
"""

import numpy as np


def _forward(X, parameters):
    L = len(parameters) // 2
    caches = []
    A = X
    for l in range(1, L + 1):
        Z = np.dot(parameters["W" + str(l)], A) + parameters["b" + str(l)]
        caches.append((A, Z))
        A = 1 / (1 + np.exp(-Z)) if l == L else np.maximum(0, Z)
    return A, caches


def _backward(AL, Y, caches, parameters, planted):
    grads = {}
    L = len(caches)
    m = Y.shape[1]
    dZ = AL - Y
    for l in reversed(range(1, L + 1)):
        A_prev, Z = caches[l - 1]
        if l < L:
            dZ = dA * (Z > 0)
        grads["dW" + str(l)] = np.dot(dZ, A_prev.T) / m
        grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True) / m
        if planted and l == 2:
            grads["dW2"] = grads["dW2"] * 2
        if planted and l == 1:
            grads["db1"] = 4.0 * np.sum(dZ, axis=1, keepdims=True) / m
        dA = np.dot(parameters["W" + str(l)].T, dZ)
    return grads


def _cost(AL, Y):
    m = Y.shape[1]
    return -np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL)) / m


def model(X, Y, parameters):
    AL, caches = _forward(X, parameters)
    return _cost(AL, Y), _backward(AL, Y, caches, parameters, planted=False)


def model_with_planted_bugs(X, Y, parameters):
    AL, caches = _forward(X, parameters)
    return _cost(AL, Y), _backward(AL, Y, caches, parameters, planted=True)
