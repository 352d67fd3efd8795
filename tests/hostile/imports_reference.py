"""Hostile: tries to borrow the harness's answer key: imports reference_impl, then gradcheck's
oracles; if that fails it returns zeros. Expected: neither is importable in the sandbox, so the
values score 0, and the "no harness imports" policy reports the attempt."""
import torch

try:
    from reference_impl import forward_backward  # noqa: F401
except ImportError:
    try:
        from gradcheck.oracles import autograd_oracle  # noqa: F401
    except ImportError:

        def forward_backward(x, y, W, b):
            return torch.zeros((), dtype=x.dtype), [torch.zeros_like(w) for w in W], [torch.zeros_like(c) for c in b]
