"""deeplearning.ai style, two functions (written for gradcheck's tests): ``forward(X, parameters)
-> (AL, caches)`` and ``backward(AL, Y, caches) -> grads`` keyed dW1, db1, ...; ReLU hidden,
sigmoid output, cross-entropy averaged over m. ``backward_db1_not_averaged`` forgets 1/m in db1.
"""

import numpy as np


def forward(X, parameters):
    L = len(parameters) // 2
    caches = []
    A = X
    for l in range(1, L + 1):
        Z = parameters["W" + str(l)] @ A + parameters["b" + str(l)]
        caches.append((A, Z, parameters["W" + str(l)]))
        A = 1 / (1 + np.exp(-np.clip(Z, -500, 500))) if l == L else np.maximum(0, Z)
    return A, caches


def _backward(AL, Y, caches, db1_scale):
    grads = {}
    m = Y.shape[1]
    dZ = AL - Y
    for l in reversed(range(1, len(caches) + 1)):
        A_prev, Z, W = caches[l - 1]
        if l < len(caches):
            dZ = dA * (Z > 0)
        grads["dW" + str(l)] = dZ @ A_prev.T / m
        grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True) / (m if l > 1 else db1_scale(m))
        dA = W.T @ dZ
    return grads


def backward(AL, Y, caches):
    return _backward(AL, Y, caches, lambda m: m)


def backward_db1_not_averaged(AL, Y, caches):
    return _backward(AL, Y, caches, lambda m: 1)
