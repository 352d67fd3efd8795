"""Layers in the style of the FAU "Deep Learning" exercise 1 (written for gradcheck's tests).

``FullyConnected(input_size, output_size)`` keeps one ``weights`` array of shape
[input_size + 1, output_size] whose last row is the bias, and pads its input with a column of
ones inside ``forward``. ``backward(error_tensor)`` stores ``gradient_weights`` (same shape) and
hands it to an optimizer, if one is set, after computing the error for the layer below.
``ReLU.backward`` masks the error it is given in place and returns it.
``FullyConnectedKeepsBiasColumn`` sends the bias row's column down too (the ReLU below raises);
``ReLUUnmasked`` passes the error through without its derivative.
"""

import numpy as np


class FullyConnected:
    def __init__(self, input_size, output_size):
        self.trainable = True
        self.weights = np.random.uniform(0, 1, (input_size + 1, output_size))
        self._optimizer = None
        self._gradient_weights = None

    @property
    def optimizer(self):
        return self._optimizer

    @optimizer.setter
    def optimizer(self, value):
        self._optimizer = value

    @property
    def gradient_weights(self):
        return self._gradient_weights

    def forward(self, input_tensor):
        ones = np.ones((input_tensor.shape[0], 1))
        self.input_tensor = np.hstack((input_tensor, ones))
        return self.input_tensor @ self.weights

    def backward(self, error_tensor):
        self._gradient_weights = self.input_tensor.T @ error_tensor
        previous = error_tensor @ self.weights[:-1].T
        if self._optimizer is not None:
            self.weights = self._optimizer.calculate_update(self.weights, self._gradient_weights)
        return previous


class ReLU:
    def forward(self, input_tensor):
        self.input_tensor = input_tensor
        return np.maximum(0, input_tensor)

    def backward(self, error_tensor):
        error_tensor[self.input_tensor <= 0] = 0
        return error_tensor


class FullyConnectedKeepsBiasColumn(FullyConnected):
    def backward(self, error_tensor):
        self._gradient_weights = self.input_tensor.T @ error_tensor
        return error_tensor @ self.weights.T  # [B, in + 1]: the layer below gets one column too many


class ReLUUnmasked(ReLU):
    def backward(self, error_tensor):
        return error_tensor
