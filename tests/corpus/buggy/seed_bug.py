"""Bug: the seed notebook's code, verbatim (element-wise loss, prints and all).

Layer 0's weight gradient is deltas[0] @ a[l-1].T with l = 0, i.e. a[-1], the LAST layer's
activation instead of x: in [7, 5, 3, 1] dW0 comes back [5, 1] instead of [5, 7]. (The
one-layer case is wrong too: W_grads[L] uses a[L - 1] = a[-1] when L = 0.)
It is also single-instance only (b_grads[l] = deltas[l] keeps the batch axis), but the
layer-0 bug shows first.
"""
import torch

EXPECTED = {
    "diagnosis": "layer0-uses-wrong-input",
    "check": "gradient-shapes",
    "layer": 0,
    "param": "W",
    "needs": [],
}


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

def forward(x, W, b):
    """
    In the forward pass, we loop over every single layer, and perform forward propagation as
    defined by the equation above
    Args
        x: 1-d input vector. Represents a single training data instance
        W: List of weight matrices. From 0 to L
        b: List of bias vectors. From 0 to L
    """
    L = len(W) - 1
    a_l = x
    for l in range(0, L + 1):
        z_l = Z(a_l, W[l], b[l])
        a_l = A(z_l)
    return a_l

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
    W_grads[L] = torch.matmul(deltas[L], a[L - 1].T)
    b_grads[L] = deltas[L]

    for l in range(L-1, -1, -1):
        a_l = a[l]
        deltas[l] =  torch.matmul(W[l + 1].T, deltas[l + 1]) * a_l * (1 - a_l)
        W_grads[l] = torch.matmul(deltas[l], a[l - 1].T)
        b_grads[l] = deltas[l]
        
    for l in range(0, L + 1):
        print('Layer: {}, Shapes - W: {}, W_grad: {}, b: {}, b_grad: {}, delta: {}'.format(
                l, list(W[l].shape), list(W_grads[l].shape), 
                list(b[l].shape), list(b_grads[l].shape), list(deltas[l].shape)
        ))
    return loss, W_grads, b_grads
