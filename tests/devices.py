"""Device parameters for tests: CPU everywhere, CUDA where a GPU exists, skipped with a reason otherwise."""

import pytest
import torch

CUDA = pytest.param(
    "cuda",
    marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine"),
    id="cuda",
)
DEVICES = [pytest.param("cpu", id="cpu"), CUDA]
