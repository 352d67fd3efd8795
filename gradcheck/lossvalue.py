"""The implementation's loss as one number, whatever form it came back in.

A leaf module: the checker judges this number against the specification, and the
self-consistency mode differences it, so both read it the same way.
"""

from __future__ import annotations

import numbers

from torch import Tensor

__all__ = ["loss_value"]


def loss_value(loss: object) -> float | None:
    """The implementation's loss as a number: a scalar, or the sum of an elementwise tensor
    (the seed returns ½ (a⁽ᴸ⁾ − ȳ)² elementwise); ``None`` when it is neither."""
    if isinstance(loss, numbers.Real):
        return float(loss)
    if type(loss) is Tensor and loss.is_floating_point():
        return float(loss.detach().double().sum())
    return None
