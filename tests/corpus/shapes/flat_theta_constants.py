"""A cost function over one unrolled parameter vector with the sizes between theta and the data
(written for gradcheck's tests, in the style of the classic machine-learning course's exercise):
rows are examples, Theta_l [out, in + 1] with the bias as column 0, sigmoid layers, cross-entropy
summed over the K outputs and averaged over m, + lam/(2m) * sum of the non-bias weights squared.
Labels are class indices 0..K-1.

``cost_function`` is correct; ``cost_function_regularises_bias`` also regularises column 0.
"""

import numpy as np


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _cost(theta, n_in, n_hidden, n_labels, X, y, lam, bias_too):
    cut = n_hidden * (n_in + 1)
    Theta1 = theta[:cut].reshape(n_hidden, n_in + 1)
    Theta2 = theta[cut:].reshape(n_labels, n_hidden + 1)
    m = X.shape[0]
    a1 = np.hstack([np.ones((m, 1)), X])
    a2 = np.hstack([np.ones((m, 1)), _sigmoid(a1 @ Theta1.T)])
    h = _sigmoid(a2 @ Theta2.T)
    Y = np.eye(n_labels)[y]
    keep1, keep2 = Theta1.copy(), Theta2.copy()
    if not bias_too:
        keep1[:, 0] = 0.0
        keep2[:, 0] = 0.0
    J = -np.sum(Y * np.log(h) + (1 - Y) * np.log(1 - h)) / m
    J += lam / (2 * m) * (np.sum(Theta1[:, 1:] ** 2) + np.sum(Theta2[:, 1:] ** 2))
    d3 = h - Y
    d2 = (d3 @ Theta2)[:, 1:] * a2[:, 1:] * (1 - a2[:, 1:])
    grad1 = (d2.T @ a1 + lam * keep1) / m
    grad2 = (d3.T @ a2 + lam * keep2) / m
    return J, np.concatenate([grad1.ravel(), grad2.ravel()])


def cost_function(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_):
    return _cost(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_, False)


def cost_function_regularises_bias(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_):
    return _cost(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_, True)
