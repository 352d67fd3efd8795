"""Correct: lets torch.autograd do the backward pass on detached clones of the inputs,
so the caller's tensors are never touched and the call works under torch.no_grad()."""
import torch

EXPECTED = None


def forward_backward(x, y, W, b):
    with torch.inference_mode(False), torch.enable_grad():
        Ws = [w.detach().clone().requires_grad_(True) for w in W]
        bs = [c.detach().clone().requires_grad_(True) for c in b]
        a = x.detach().clone()
        for w, c in zip(Ws, bs):
            a = torch.sigmoid(w @ a + c)
        loss = 0.5 * ((a - y.detach()) ** 2).sum()
        grads = torch.autograd.grad(loss, Ws + bs)
    n = len(W)
    return loss.detach(), list(grads[:n]), list(grads[n:])
