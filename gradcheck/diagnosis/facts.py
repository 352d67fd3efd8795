"""Facts about one checked case, in the equations' terms, and how to tell two tensors apart.

A :class:`CaseFacts` holds, for one :class:`~gradcheck.checker.CaseResult`, everything a bug
explanation is tested against: the inputs (x, ȳ, W⁽ˡ⁾, b⁽ˡ⁾), the true z⁽ˡ⁾, a⁽ˡ⁾, δ⁽ˡ⁾ and
gradients from the autograd oracle (float64, CPU), and what the implementation returned. It
is data; nothing here guesses.

Two tensors "agree" when the checker itself would accept one as the other (same tolerance,
same round-off slack); :func:`residual` says how far apart they are when they don't.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property

import torch
from torch import Tensor

from ..cases import make_case, parse_dtype
from ..checker import CaseResult
from ..compare import TOLERANCES, allowed_error
from ..records import Failure
from ..spec import SEED, Spec
from ..truth import SlackKey

__all__ = ["CaseFacts", "Key", "agrees", "failure_label", "gradient_key", "label", "residual"]

Key = tuple[int, str]  # (layer, "W" | "b")


def label(key: Key) -> str:
    """``(2, "W")`` -> ``"W[2]"``: how the report names a gradient."""
    return f"{key[1]}[{key[0]}]"


def gradient_key(f: Failure) -> Key:
    """``(layer, param)`` of a failure about one gradient tensor (shape, finite, value checks set both).

    A failure of the whole call (the loss, a crash) names no tensor; asking for its key is a bug.
    """
    if f.layer is None or f.param is None:
        raise ValueError(f"a {f.check!r} failure names no gradient tensor (layer={f.layer}, param={f.param!r})")
    return (f.layer, f.param)


def failure_label(f: Failure) -> str:
    """How a hint names a failure: ``W[2]``, or the loss, or the check for whole-call failures."""
    if f.layer is not None and f.param:
        return label((f.layer, f.param))
    return f.param or f.check


def residual(got: Tensor, candidate: Tensor) -> float:
    """‖got − candidate‖ / max(‖got‖, ‖candidate‖): 0 when equal, about 1 or more when unrelated."""
    scale = max(float(got.norm()), float(candidate.norm()))
    if scale == 0.0:
        return 0.0
    return float((got - candidate).norm()) / scale


def agrees(got: Tensor, candidate: Tensor, dtype: torch.dtype, slack: float = 0.0) -> bool:
    """Whether the checker would accept ``got`` if ``candidate`` were the truth (its tolerance, NaN never)."""
    if got.shape != candidate.shape:
        return False
    return bool(((got - candidate).abs() <= allowed_error(candidate, TOLERANCES[dtype], slack)).all())


@dataclass
class CaseFacts:
    """One case's true quantities and returned gradients, float64 on the CPU.

    ``inputs[l]`` is a⁽ˡ⁻¹⁾, the input of layer l (``x`` for l = 0); ``acts[l]`` is a⁽ˡ⁾,
    ``zs[l]`` is z⁽ˡ⁾ and ``deltas[l]`` is δ⁽ˡ⁾ = ∂L/∂z⁽ˡ⁾.
    """

    result: CaseResult
    spec: Spec = SEED
    failing: dict[Key, Failure] = field(default_factory=dict)  # gradient-values failures by key
    memo: dict = field(default_factory=dict)  # results of costlier hypotheses, computed once

    def __post_init__(self) -> None:
        self.failing = {gradient_key(f): f for f in self.result.failures if f.check == "gradient-values"}

    # -- the case ---------------------------------------------------------------------------
    @property
    def case(self):
        return self.result.case

    @property
    def widths(self) -> tuple[int, ...]:
        return self.case.widths

    @property
    def depth(self) -> int:
        return self.case.depth

    @property
    def top(self) -> int:
        """L, the output layer's index."""
        return self.case.depth - 1

    @property
    def batch(self) -> int:
        return self.case.batch

    @property
    def dtype(self) -> torch.dtype:
        return parse_dtype(self.case.dtype)

    @cached_property
    def _inputs64(self):
        """x, ȳ, W, b as the oracles saw them (the case's dtype, then float64 on the CPU)."""
        return make_case(dataclasses.replace(self.case, device="cpu"), self.spec).as_float64_cpu()

    @property
    def x(self) -> Tensor:
        return self._inputs64.x

    @property
    def y(self) -> Tensor:
        return self._inputs64.y

    @property
    def W(self) -> list[Tensor]:
        return self._inputs64.W

    @property
    def b(self) -> list[Tensor]:
        return self._inputs64.b

    # -- the truth --------------------------------------------------------------------------
    @property
    def truth(self):
        return self.result.truth.autograd

    @property
    def zs(self) -> list[Tensor]:
        return self.truth.zs

    @property
    def acts(self) -> list[Tensor]:
        return self.truth.activations

    @property
    def inputs(self) -> list[Tensor]:
        return [self.x, *self.acts[:-1]]

    @property
    def deltas(self) -> list[Tensor]:
        return self.truth.deltas

    def true_grad(self, key: Key) -> Tensor:
        return self.truth.param(*key)

    def sigma_prime(self, layer: int) -> Tensor:
        """The derivative of layer l's own activation at z⁽ˡ⁾, to full precision."""
        return self.spec.activation_at(layer, len(self.zs)).derivative(self.zs[layer])

    # -- what came back ---------------------------------------------------------------------
    def returned(self, key: Key) -> Tensor | None:
        """The implementation's gradient if it has the right shape and is finite, else None."""
        got = self.result.returned.get(key)
        if got is None or not bool(torch.isfinite(got).all()):
            return None
        return got

    def returned_shape(self, key: Key) -> list[int] | None:
        """The shape of what came back for ``key``, from the shape failure or the tensor."""
        for f in self.result.failures:
            if f.check == "gradient-shapes" and (f.layer, f.param) == key:
                return list(f.got)
        got = self.result.returned.get(key)
        return list(got.shape) if got is not None else None

    def expected_shape(self, key: Key) -> list[int]:
        layer, param = key
        return [self.widths[layer + 1], self.widths[layer]] if param == "W" else [self.widths[layer + 1], 1]

    def slack(self, key: SlackKey) -> float:
        return self.result.truth.slack.get(key, 0.0) if self.result.truth else 0.0

    def allowed(self, key: Key, expected: Tensor) -> Tensor:
        """The checker's per-entry allowance around ``expected`` for ``key``."""
        return allowed_error(expected, TOLERANCES[self.dtype], self.slack(key))

    def agrees(self, key: Key, got: Tensor, candidate: Tensor) -> bool:
        """Would the checker accept ``got`` for ``key`` if ``candidate`` were the truth?"""
        return agrees(got, candidate, self.dtype, self.slack(key))
