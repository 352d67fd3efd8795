"""Hostile: guesses the harness's reply pipe among its file descriptors and writes forged
replies (success, and an answer to a call that was never made) into each, then returns zeros.
Expected: the grader takes a reply that answers no call as a broken channel: the call fails,
the sandbox is replaced (a bounded number of times), score 0, the batch goes on."""
import os

import torch

FORGED = b'{"id": 999999, "ok": true, "value": {"k": "none"}, "after": {}}\n'


def forward_backward(x, y, W, b):
    for fd in range(3, 64):
        try:
            os.write(fd, FORGED)
        except OSError:
            pass
    return torch.zeros((), dtype=x.dtype), [torch.zeros_like(w) for w in W], [torch.zeros_like(c) for c in b]
