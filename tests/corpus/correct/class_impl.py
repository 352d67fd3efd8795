"""Correct: a small stateless class; the callable instance is what gets exposed as
forward_backward."""
import torch

EXPECTED = None


class _Impl:
    """Sigmoid MLP backprop. Holds no state between calls."""

    @staticmethod
    def _forward(x, W, b):
        acts = [x]
        for Wl, bl in zip(W, b):
            acts.append(torch.sigmoid(Wl @ acts[-1] + bl))
        return acts

    @staticmethod
    def _sigma_prime(a):
        return a * (1 - a)

    def __call__(self, x, y, W, b):
        acts = self._forward(x, W, b)
        out = acts[-1]
        loss = 0.5 * ((out - y) ** 2).sum()
        W_grads, b_grads = [], []
        delta = (out - y) * self._sigma_prime(out)
        for l in range(len(W) - 1, -1, -1):
            W_grads.append(delta @ acts[l].T)
            b_grads.append(delta.sum(dim=1, keepdim=True))
            delta = (W[l].T @ delta) * self._sigma_prime(acts[l])
        W_grads.reverse()
        b_grads.reverse()
        return loss, W_grads, b_grads


forward_backward = _Impl()
