"""Hostile: makes every comparison in its own process say "equal" (torch.allclose, torch.equal,
torch.isclose, Tensor.__eq__, torch.testing.assert_close, math.isclose), then returns zeros.
In-process graders that compare with torch would give full marks. Expected: the grader
compares in its own process, so the values score 0 (only shapes, untouched inputs and
repeatability, which zeros do satisfy, earn points)."""
import math

import torch
import torch.testing

torch.allclose = lambda *args, **kwargs: True
torch.equal = lambda *args, **kwargs: True
torch.isclose = lambda a, b, *args, **kwargs: torch.ones(a.shape, dtype=torch.bool)
torch.Tensor.__eq__ = lambda self, other: True
torch.testing.assert_close = lambda *args, **kwargs: None
math.isclose = lambda *args, **kwargs: True


def forward_backward(x, y, W, b):
    return torch.zeros((), dtype=x.dtype), [torch.zeros_like(w) for w in W], [torch.zeros_like(c) for c in b]
