"""Torch's intra-op threads for a check: one for small problems.

A student-sized check is hundreds of tiny kernels; with torch's default (one thread per core)
each pays a thread hand-off, and on busy cores the hand-off waits. Measured on a shared 2-core
box, the 64-wide finite-difference oracle took 297 ms with 2 threads and 49 ms with 1. The
grader's children already run with one; :func:`few_threads` gives ``gradcheck check`` and the
pytest plugin the same, and gives the caller's setting back afterwards.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = ["SMALL_PROBLEM", "few_threads", "parameter_count"]

# Parameters up to which a single thread is faster (the full finite differences' range too).
SMALL_PROBLEM = 50_000


def parameter_count(widths: Sequence[int]) -> int:
    """Weights and biases of a network with layer widths ``widths``."""
    return sum(n_out * (n_in + 1) for n_in, n_out in itertools.pairwise(widths))


@contextmanager
def few_threads(parameters: int | None = None) -> Iterator[None]:
    """One intra-op thread while the block runs, unless the largest network checked has more
    than :data:`SMALL_PROBLEM` parameters (``None``: the built-in cases, all small)."""
    import torch

    before = torch.get_num_threads()
    if parameters is None or parameters <= SMALL_PROBLEM:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
