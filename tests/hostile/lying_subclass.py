"""Hostile: returns zeros wrapped in a tensor subclass whose comparisons all claim equality
(__eq__, and torch.allclose/equal/isclose through __torch_function__). Expected: the grader
rebuilds plain data, sees a subclass, and the gradients and the loss score 0."""
import torch


class Liar(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in ("allclose", "equal"):
            return True
        if name in ("isclose", "eq", "__eq__"):
            return torch.ones(args[0].shape, dtype=torch.bool)
        return super().__torch_function__(func, types, args, kwargs or {})

    def __eq__(self, other):
        return True

    __hash__ = torch.Tensor.__hash__


def forward_backward(x, y, W, b):
    lie = lambda t: torch.zeros_like(t).as_subclass(Liar)  # noqa: E731
    return lie(x.sum()), [lie(w) for w in W], [lie(c) for c in b]
