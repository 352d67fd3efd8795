"""A training function that draws its own parameters (written for gradcheck's tests, in the style
of from-scratch tutorials): numpy, rows are examples, W [in, out], b [1, out]; tanh hidden layer,
softmax cross-entropy summed over the batch, + reg/2 * sum(W^2); plain gradient descent.

``fit`` is correct; ``fit_unregularised_first_layer`` forgets the L2 term of the first layer's
weight gradient.
"""

import numpy as np

IN_DIM = 2  # the module's own idea of the input and output sizes (the harness's differ)
OUT_DIM = 2
STEP = 0.01
REG = 0.01


def _train(features, labels, params, passes, first_layer_reg):
    W1, b1, W2, b2 = params
    count = features.shape[0]
    for _ in range(passes):
        hidden_out = np.tanh(features @ W1 + b1)
        scores = hidden_out @ W2 + b2
        scores = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=1, keepdims=True)
        err = probs.copy()
        err[np.arange(count), labels] -= 1.0
        dW2 = hidden_out.T @ err + REG * W2
        db2 = err.sum(axis=0, keepdims=True)
        back = (err @ W2.T) * (1.0 - hidden_out**2)
        dW1 = features.T @ back + first_layer_reg * W1
        db1 = back.sum(axis=0)
        W1 += -STEP * dW1
        b1 += -STEP * db1
        W2 += -STEP * dW2
        b2 += -STEP * db2
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def fit(features, labels, hidden, passes=5000, verbose=False):
    rng = np.random.default_rng(7)
    W1 = rng.standard_normal((IN_DIM, hidden)) / np.sqrt(IN_DIM)
    b1, W2 = np.zeros((1, hidden)), rng.standard_normal((hidden, OUT_DIM)) / np.sqrt(hidden)
    b2 = np.zeros((1, OUT_DIM))
    return _train(features, labels, (W1, b1, W2, b2), passes, REG)


def fit_unregularised_first_layer(features, labels, hidden, passes=5000, verbose=False):
    np.random.seed(3)
    W1 = np.random.randn(IN_DIM, hidden) * 0.5
    b1 = np.zeros((1, hidden))
    W2 = np.random.randn(hidden, OUT_DIM) * 0.5
    b2 = np.zeros((1, OUT_DIM))
    return _train(features, labels, (W1, b1, W2, b2), passes, 0.0)
