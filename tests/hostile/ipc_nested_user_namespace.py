"""Hostile: tries to create a user namespace of its own from inside the sandbox (where it would
hold every capability again, and the kernel's namespace code is a large attack surface), then
a mount namespace inside it. It prints "NESTED USERNS CREATED" or "NESTED USERNS REFUSED".
Its gradients are right. Expected: refused wherever the sandbox reports "no nested user
namespaces" (the kernel's user-namespace limit is 0 inside); the grade is unaffected either way."""

import ctypes
import os

import torch

CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000

libc = ctypes.CDLL(None, use_errno=True)
read_end, write_end = os.pipe()
child = os.fork()  # a single-threaded process: unshare(CLONE_NEWUSER) refuses threaded ones
if child == 0:
    if libc.unshare(CLONE_NEWUSER) == 0:
        os.write(write_end, b"CREATED" + (b" and a mount namespace" if libc.unshare(CLONE_NEWNS) == 0 else b""))
    else:
        os.write(write_end, b"REFUSED " + os.strerror(ctypes.get_errno()).encode())
    os._exit(0)
os.waitpid(child, 0)
os.close(write_end)
print("NESTED USERNS", os.read(read_end, 200).decode())


def forward_backward(x, y, W, b):
    a, zs = [x], []
    for w, c in zip(W, b, strict=True):
        zs.append(w @ a[-1] + c)
        a.append(torch.sigmoid(zs[-1]))
    delta = (a[-1] - y) * torch.sigmoid(zs[-1]) * torch.sigmoid(-zs[-1])
    dW, db = [None] * len(W), [None] * len(W)
    for layer in reversed(range(len(W))):
        dW[layer], db[layer] = delta @ a[layer].T, delta.sum(dim=1, keepdim=True)
        if layer:
            delta = (W[layer].T @ delta) * torch.sigmoid(zs[layer - 1]) * torch.sigmoid(-zs[layer - 1])
    return 0.5 * ((a[-1] - y) ** 2).sum(), dW, db
