"""Correct (single instance): the seed notebook's code with its bug fixed.

The seed took the activation feeding layer l as a[l-1], which at l = 0 wraps to a[-1]
(the LAST activation) instead of x; the one-layer case (L = 0) had the same problem in the
last-layer block. Fixed by using x whenever l - 1 < 0. Everything else is kept as the
seed wrote it: the element-wise loss tensor, the prints, and b_grads[l] = deltas[l]
(which keeps the batch axis, hence SINGLE_INSTANCE_ONLY).
"""
import torch

EXPECTED = None
SINGLE_INSTANCE_ONLY = True


def Z(x, W_l, b_l):
    """
    Args
        x: 1-d vector. Activation of layer l-1
        Wl: Weight matrix of layer l
        bl: Bias of layer l
    """
    return torch.matmul(W_l, x) + b_l


def A(z_l):
    """
    Sigmoid activation function (non-linear layer)
    """
    return torch.sigmoid(z_l)


def mse_loss(a_L, y):
    """
    Args
        a_L: Activation of the last layer
        y: Ground Truth
    """
    return 1./ 2 * torch.pow((a_L - y), 2)


def forward_backward(x, y, W, b):
    L = len(W) - 1
    a = []
    # We are caching the output of the forward propagation of the intermediate layers
    # to help with the calcuation of the gradients during backward propagation.
    for l in range(0, L+1):
        a_prev = x if l == 0 else a[l-1]
        z_l = Z(a_prev, W[l], b[l])
        a_l = A(z_l)
        a.append(a_l)

    print('Final activation', a[L])
    loss = mse_loss(a[L], y)
    print('Loss', loss)

    deltas = [None for _ in range(L + 1)]
    W_grads = [None for _ in range(L + 1)]
    b_grads = [None for _ in range(L + 1)]

    # Compute for the last layer
    a_L = a[L]
    deltas[L] = (a_L - y) * a_L * (1 - a_L)
    W_grads[L] = torch.matmul(deltas[L], (x if L == 0 else a[L - 1]).T)  # FIX: x when L == 0
    b_grads[L] = deltas[L]

    for l in range(L-1, -1, -1):
        a_l = a[l]
        deltas[l] =  torch.matmul(W[l + 1].T, deltas[l + 1]) * a_l * (1 - a_l)
        W_grads[l] = torch.matmul(deltas[l], (x if l == 0 else a[l - 1]).T)  # FIX: x for layer 0
        b_grads[l] = deltas[l]

    for l in range(0, L + 1):
        print('Layer: {}, Shapes - W: {}, W_grad: {}, b: {}, b_grad: {}, delta: {}'.format(
                l, list(W[l].shape), list(W_grads[l].shape),
                list(b[l].shape), list(b_grads[l].shape), list(deltas[l].shape)
        ))
    return loss, W_grads, b_grads
