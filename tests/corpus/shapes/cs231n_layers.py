"""Functional layers with caches in the style of CS231n's ``layers.py`` (written for gradcheck's tests).

``affine_forward(x, w, b) -> (out, cache)`` flattens x [N, d1, ..., dk] to [N, D]; w [D, M],
b [M]. ``affine_backward(dout, cache) -> (dx, dw, db)``. ``relu_backward`` masks ``dout`` in
place (``dx = dout``), a hazard that still gives the right gradient. ``affine_t_backward`` returns
dw transposed, the classic slip; ``nocache_forward`` forgets to return its cache.
"""

import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = np.sum(dout, axis=0)
    return dx, dw, db


def affine_t_forward(x, w, b):
    return affine_forward(x, w, b)


def affine_t_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = dout.T @ x.reshape(x.shape[0], -1)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    dx, x = dout, cache
    dx[x <= 0] = 0
    return dx


def relu_copy_forward(x):
    return relu_forward(x)


def relu_copy_backward(dout, cache):
    return dout * (cache > 0)


def nocache_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b


def nocache_backward(dout, cache):
    return affine_backward(dout, cache)
