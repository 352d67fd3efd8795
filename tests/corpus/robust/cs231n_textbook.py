"""CS231n-style two-layer nets as students write them from the lecture notes (written for
gradcheck's tests, in the style of the assignment, not copied from any solution).

Row-major X [N, D], params W1 [D, H], b1 [H], W2 [H, C], b2 [C]; ReLU hidden layer, softmax
cross-entropy averaged over the batch, plus reg * (sum W1^2 + sum W2^2).

- ``TwoLayerNet``: the textbook loss, max-shifted scores, probabilities, then -log(probs[y]).
- ``UnshiftedNet``: the same without the max shift (exp of the raw scores).
- ``BiasRegNet``: regularises the biases too, in its loss and its gradients: self-consistent,
  but not the spec's loss.
- ``SumGradNet``: returns the mean loss but gradients of the summed loss (N times too large).
"""

import numpy as np


class TwoLayerNet:
    shift = True

    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {}
        self.params["W1"] = std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

    def scores_and_cache(self, X):
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        h1 = np.maximum(0, X.dot(W1) + b1)
        return h1.dot(W2) + b2, h1

    def penalty(self, reg):
        W1, W2 = self.params["W1"], self.params["W2"]
        return reg * (np.sum(W1 * W1) + np.sum(W2 * W2))

    def loss(self, X, y=None, reg=0.0):
        N = X.shape[0]
        scores, h1 = self.scores_and_cache(X)
        if y is None:
            return scores
        if self.shift:
            scores = scores - np.max(scores, axis=1, keepdims=True)
        exp_scores = np.exp(scores)
        probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
        correct_logprobs = -np.log(probs[range(N), y])
        loss = np.sum(correct_logprobs) / N + self.penalty(reg)

        dscores = probs
        dscores[range(N), y] -= 1
        dscores /= N
        grads = {}
        grads["W2"] = h1.T.dot(dscores)
        grads["b2"] = np.sum(dscores, axis=0)
        dh1 = dscores.dot(self.params["W2"].T)
        dh1[h1 <= 0] = 0
        grads["W1"] = X.T.dot(dh1)
        grads["b1"] = np.sum(dh1, axis=0)
        self.add_penalty_gradients(grads, reg)
        return loss, self.scale(grads, N)

    def add_penalty_gradients(self, grads, reg):
        grads["W2"] += 2 * reg * self.params["W2"]
        grads["W1"] += 2 * reg * self.params["W1"]

    def scale(self, grads, N):
        return grads


class UnshiftedNet(TwoLayerNet):
    """exp(scores) without subtracting the row max first."""

    shift = False


class BiasRegNet(TwoLayerNet):
    """reg * sum of every parameter squared, biases included, in the loss and in every gradient."""

    def penalty(self, reg):
        return reg * sum(np.sum(p * p) for p in self.params.values())

    def add_penalty_gradients(self, grads, reg):
        for name in grads:
            grads[name] += 2 * reg * self.params[name]


class SumGradNet(TwoLayerNet):
    """The loss is averaged over the batch, the gradients are those of the sum."""

    def scale(self, grads, N):
        return {name: g * N for name, g in grads.items()}
