"""The implementation's loss read as a number, one rule for every judge.

The specification's loss check (:mod:`gradcheck.checker`) and the self-consistency probes
(:mod:`gradcheck.selfconsistency`) both read what an implementation returned as its loss; they
must agree on what counts as a number, so the rule lives here, below both.
"""

from __future__ import annotations

import numbers
from typing import Any

from torch import Tensor

__all__ = ["loss_value"]


def loss_value(loss: Any) -> float | None:
    """The implementation's loss as a number: a scalar, or the sum of an elementwise tensor;
    ``None`` for anything else (the caller reports its type)."""
    if isinstance(loss, numbers.Real):
        return float(loss)
    if type(loss) is Tensor and loss.is_floating_point():
        return float(loss.detach().double().sum())
    return None
