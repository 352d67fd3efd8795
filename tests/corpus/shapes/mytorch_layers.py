"""Layer objects in the style of CMU 11-785's MyTorch (written for gradcheck's tests, not copied).

``Linear(in_features, out_features, debug=False)`` sets its state in ``__init__``: W [out, in],
b [out, 1], row-major batches A [N, in]. ``backward(dLdZ)`` stores ``dLdW`` and ``dLdb`` and
returns dLdA. The activations' ``backward()`` takes no upstream: it returns the local derivative
dA/dZ, and the caller multiplies. ``LinearMeanTwice`` divides its gradients by the batch size,
although the upstream it is given is already averaged: every gradient is 1/N of the true one.
"""

import numpy as np


class Linear:
    def __init__(self, in_features, out_features, debug=False):
        self.W = np.zeros((out_features, in_features))
        self.b = np.zeros((out_features, 1))
        self.debug = debug

    def forward(self, A):
        self.A = A
        self.N = A.shape[0]
        self.Ones = np.ones((self.N, 1))
        return A @ self.W.T + self.Ones @ self.b.T

    def backward(self, dLdZ):
        dLdA = dLdZ @ self.W
        self.dLdW = dLdZ.T @ self.A
        self.dLdb = dLdZ.T @ self.Ones
        if self.debug:
            self.dLdA = dLdA
        return dLdA


class LinearMeanTwice(Linear):
    def backward(self, dLdZ):
        dLdA = super().backward(dLdZ)
        self.dLdW = self.dLdW / self.N
        self.dLdb = self.dLdb / self.N
        return dLdA


class LinearRaises(Linear):
    def backward(self, dLdZ):
        return dLdZ @ self.weights  # no such attribute: the implementation's own AttributeError


class Sigmoid:
    def forward(self, Z):
        self.A = 1 / (1 + np.exp(-Z))
        return self.A

    def backward(self):
        return self.A - self.A * self.A


class Tanh:
    def forward(self, Z):
        self.A = np.tanh(Z)
        return self.A

    def backward(self):
        return 1 - self.A * self.A
