"""A network object that leaves its gradients in attributes (written for gradcheck's tests).

``net.W`` / ``net.b`` are lists (W_l [n_{l+1}, n_l], b_l [n_{l+1}, 1]); ``net.backprop(x, y)``
returns the loss and stores ``net.dW1, net.db1, ...``. ``MeanLastBias`` averages the last
layer's bias gradient over the batch instead of summing it: exact only at batch size 1.
"""

import numpy as np


class Network:
    def backprop(self, x, y):
        acts = [x]
        for W_l, b_l in zip(self.W, self.b):
            acts.append(1.0 / (1.0 + np.exp(-(W_l @ acts[-1] + b_l))))
        out = acts[-1]
        delta = (out - y) * out * (1 - out)
        for l in reversed(range(len(self.W))):
            setattr(self, f"dW{l + 1}", delta @ acts[l].T)
            setattr(self, f"db{l + 1}", self._bias_grad(delta, last=l == len(self.W) - 1))
            if l:
                delta = (self.W[l].T @ delta) * acts[l] * (1 - acts[l])
        return 0.5 * np.sum((out - y) ** 2)

    def _bias_grad(self, delta, last):
        return delta.sum(axis=1, keepdims=True)


class MeanLastBias(Network):
    def _bias_grad(self, delta, last):
        return delta.mean(axis=1, keepdims=True) if last else delta.sum(axis=1, keepdims=True)
