"""Hostile: returns random numbers of exactly the right shapes and dtypes, the same ones on every
call (a generator seeded afresh each time), and never touches its inputs: it passes every
check of form and hygiene (shapes, dtypes, finiteness, inputs not modified, same result on a
repeated call) and no check of value. Expected: hygiene earns nothing without substance: with
the default rubric (requires_correct_gradients), score 0, where it used to earn 3 of 12."""

import torch


def forward_backward(x, y, W, b):
    noise = torch.Generator().manual_seed(1234)

    def like(t):
        return torch.rand(t.shape, generator=noise, dtype=torch.float64).to(t.dtype)

    return like(torch.empty((), dtype=x.dtype)), [like(w) for w in W], [like(c) for c in b]
