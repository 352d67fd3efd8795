"""A two-layer net in the style of the CS231n assignment (written for gradcheck's tests).

Row-major batches X [N, D], W1 [D, H], b1 [H], W2 [H, C], b2 [C]; ReLU, softmax loss averaged
over the batch, plus reg * (sum W1^2 + sum W2^2). ``loss(X, y, reg)`` returns ``(loss, grads)``
with ``grads`` keyed like ``self.params``. Subclasses carry one classic mistake each.
"""

import numpy as np


class TwoLayerNet(object):
    bug = None

    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        self.params = {}
        self.params["W1"] = std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

    def loss(self, X, y=None, reg=0.0):
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        N, D = X.shape

        hidden_in = X.dot(W1) + b1
        hidden = np.maximum(0, hidden_in)
        scores = hidden.dot(W2) + b2
        if y is None:
            return scores

        if self.bug == "unfinished":
            loss = None
            return loss, {}

        shifted = scores - np.max(scores, axis=1, keepdims=True)
        log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        probs = np.exp(log_probs)
        loss = -np.sum(log_probs[np.arange(N), y]) / N
        penalty = np.sum(W1 * W1) + np.sum(W2 * W2)
        if self.bug == "hard-coded-reg":
            reg = 0.05  # the value from the notebook's sanity check, not the argument
        if self.bug == "half-reg-with-biases":
            loss += 0.5 * reg * (penalty + np.sum(b1 * b1) + np.sum(b2 * b2))
        else:
            loss += reg * penalty

        grads = {}
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= N
        if self.bug == "all-over-n":
            dscores /= N
        grads["W2"] = hidden.T.dot(dscores)
        grads["b2"] = np.sum(dscores, axis=0)
        if self.bug == "db2-times-n":
            grads["b2"] = grads["b2"] * N
        dhidden = dscores.dot(W2.T)
        dhidden[hidden_in <= 0] = 0
        grads["W1"] = X.T.dot(dhidden)
        grads["b1"] = np.sum(dhidden, axis=0)

        if self.bug == "half-reg-with-biases":
            for name in grads:
                grads[name] += reg * self.params[name]
        elif self.bug == "reg-on-biases":
            for name in grads:
                grads[name] += 2 * reg * self.params[name]
        else:
            grads["W1"] += 2 * reg * W1
            grads["W2"] += 2 * reg * W2
        return loss, grads


class HalfRegWithBiases(TwoLayerNet):
    """Self-consistent, but a different loss: 0.5 * reg * (sum W^2 + sum b^2)."""

    bug = "half-reg-with-biases"


class Db2TimesN(TwoLayerNet):
    """db2 is summed without dividing by N: N times too large, exact at N = 1."""

    bug = "db2-times-n"


class HardCodedReg(TwoLayerNet):
    """Ignores the ``reg`` argument and uses the notebook's 0.05: right only when reg is 0.05."""

    bug = "hard-coded-reg"


class RegOnBiases(TwoLayerNet):
    """The L2 gradient is added to every parameter, biases too; the loss regularises W only."""

    bug = "reg-on-biases"


class AllOverN(TwoLayerNet):
    """Every gradient divided by N twice: exactly 1/N of the truth."""

    bug = "all-over-n"


class Unfinished(TwoLayerNet):
    """The template as handed out: ``loss = None``."""

    bug = "unfinished"
