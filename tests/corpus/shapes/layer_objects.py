"""Per-layer objects, MyTorch style (written for gradcheck's tests): ``Linear`` (attributes W
[out, in], b [out, 1]; ``forward(A)``, ``backward(dZ)`` stores ``dW``, ``db`` and returns dA) and
``Sigmoid`` (``forward(Z)``, ``backward(dA)``), numpy, column vectors. The caller chains them.
``SigmoidOfOutput`` takes the derivative as if its input were its output: sigma'(A).
"""

import numpy as np


class Linear:
    def forward(self, A):
        self.A = A
        return self.W @ A + self.b

    def backward(self, dZ):
        self.dW = dZ @ self.A.T
        self.db = dZ.sum(axis=1, keepdims=True)
        return self.W.T @ dZ


class Sigmoid:
    def forward(self, Z):
        self.out = 1.0 / (1.0 + np.exp(-Z))
        return self.out

    def backward(self, dA):
        return dA * self.out * (1 - self.out)


class SigmoidOfOutput(Sigmoid):
    def backward(self, dA):
        s = 1.0 / (1.0 + np.exp(-self.out))
        return dA * s * (1 - s)
