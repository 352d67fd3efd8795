"""The specification: what a correct implementation computes.

One explicit object instead of assumptions scattered through the oracles. The seed's contract
is the default: column vectors, W⁽ˡ⁾ of shape ``[n_{l+1}, n_l]``, sigmoid on every layer, loss
½ Σ (a⁽ᴸ⁾ − ȳ)² summed over every entry, bias gradients summed over the batch. Every oracle
computes its forward pass through this object, so another specification (activations, loss,
reduction, L2 regularisation) changes one place. Named specifications live in
:mod:`gradcheck.presets`.

The harness always works in one canonical layout (column vectors, W ``[out, in]``, b
``[out, 1]``); other layouts are the job of :mod:`gradcheck.adapters`, not of the spec.

Targets (``y``, shape ``[n_L, B]`` like the output):

* squared errors: any real numbers (cases draw them in (0, 1));
* ``bce``: 0 or 1 (the output activation must be the sigmoid);
* ``softmax_ce``: one-hot columns (the output activation must be the identity: the softmax is
  part of the loss). An implementation that wants class indices gets them from an adapter
  (``Adapter(targets="index")``), so every case keeps one dense ``y``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

__all__ = ["ACTIVATIONS", "L2_FORMS", "LOSSES", "REDUCTIONS", "SEED", "Activation", "Spec"]

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
LOSSES = ("half_sse", "sse", "mse", "bce", "softmax_ce")
REDUCTIONS = ("sum", "mean")
L2_FORMS = ("full", "half")  # λ‖W‖² or ½λ‖W‖²


@dataclass(frozen=True)
class Activation:
    """One layer's activation; ``slope`` is leaky ReLU's for z < 0 (ignored by the others)."""

    name: str = "sigmoid"
    slope: float = 0.01

    def __post_init__(self) -> None:
        if self.name not in ACTIVATIONS:
            raise ValueError(f"activation {self.name!r} is not one of {', '.join(ACTIVATIONS)}")

    @classmethod
    def parse(cls, text: str | Activation) -> Activation:
        """``"tanh"``, ``"leaky_relu"`` or ``"leaky_relu(0.1)"`` -> an :class:`Activation`."""
        if isinstance(text, Activation):
            return text
        match = re.fullmatch(r"\s*([a-z_]+)\s*(?:\(\s*([-+0-9.eE]+)\s*\))?\s*", str(text))
        if not match:
            raise ValueError(
                f"activation {text!r} is not one of {', '.join(ACTIVATIONS)}"
                " (leaky_relu may take a slope: leaky_relu(0.1))"
            )
        name, slope = match.groups()
        return cls(name, float(slope)) if slope else cls(name)

    def __str__(self) -> str:
        return f"leaky_relu({self.slope:g})" if self.name == "leaky_relu" else self.name

    @property
    def kinked(self) -> bool:
        """Not differentiable at z = 0: finite differences straddling 0 are meaningless there."""
        return self.name in ("relu", "leaky_relu")

    def __call__(self, z: Tensor) -> Tensor:
        if self.name == "sigmoid":
            return torch.sigmoid(z)
        if self.name == "tanh":
            return torch.tanh(z)
        if self.name == "relu":
            return torch.relu(z)
        if self.name == "leaky_relu":
            return torch.where(z > 0, z, self.slope * z)
        return z

    def derivative(self, z: Tensor) -> Tensor:
        """The derivative to full precision (σ(z)·σ(−z) keeps e⁻¹⁰⁰ where a(1 − a) rounds to 0);
        at a kink, the left derivative (torch's convention for ReLU)."""
        if self.name == "sigmoid":
            return torch.sigmoid(z) * torch.sigmoid(-z)
        if self.name == "tanh":
            return 1 - torch.tanh(z).pow(2)
        if self.name == "relu":
            return (z > 0).to(z.dtype)
        if self.name == "leaky_relu":
            return torch.where(z > 0, torch.ones_like(z), torch.full_like(z, self.slope))
        return torch.ones_like(z)


SIGMOID = Activation("sigmoid")


@dataclass(frozen=True)
class Spec:
    """What the implementation under test is supposed to compute.

    ``batch``: whether the implementation is expected to take ``x`` of shape ``[n_0, B]`` with
    ``B > 1``. Off by default, like the seed, so a correct single-instance solution is never
    failed for lacking batches.

    ``hidden`` / ``output``: the activation of every hidden layer and of the last layer (names
    or :class:`Activation`; ``"leaky_relu(0.1)"`` sets a slope). ``criterion``, the loss: one of
    :data:`LOSSES`; ``half_sse`` is ½Σ(a − y)², ``sse`` Σ(a − y)², ``mse`` the mean over outputs
    of (a − y)², ``bce`` −Σ[y log a + (1 − y) log(1 − a)], ``softmax_ce`` −log softmax(z)[class].
    ``output_reduction`` (sum or mean over the n_L outputs of one example; squared errors and
    bce only) and ``batch_reduction`` (sum or mean over the B examples) are separate, because
    code in the wild mixes them (bce summed over outputs, averaged over the batch).

    ``l2``: the coefficient λ of an L2 penalty added to the loss: λ‖W‖² (``l2_form="full"``) or
    ½λ‖W‖² (``"half"``), summed over layers; ``l2_biases`` includes ‖b‖²; ``l2_batch_mean``
    divides the penalty by B too (the λ/2m form of the Coursera courses).

    ``biases``: False for a network without biases (``Adapter(bias="none")``): cases then draw
    b = 0, so the spec's network is the bias-free one, and the adapter supplies b's gradients.
    """

    name: str = "seed"
    batch: bool = False
    # A name or an Activation; __post_init__ parses both fields to an Activation, which mypy cannot
    # follow: the reason for the `type: ignore`s on their uses below.
    hidden: Activation | str = SIGMOID
    output: Activation | str = SIGMOID
    criterion: str = "half_sse"
    batch_reduction: str = "sum"
    output_reduction: str = "sum"
    l2: float = 0.0
    l2_form: str = "full"
    l2_biases: bool = False
    l2_batch_mean: bool = False
    biases: bool = True
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", Activation.parse(self.hidden))
        object.__setattr__(self, "output", Activation.parse(self.output))
        _one_of(self.criterion, LOSSES, "criterion")
        _one_of(self.batch_reduction, REDUCTIONS, "batch_reduction")
        _one_of(self.output_reduction, REDUCTIONS, "output_reduction")
        _one_of(self.l2_form, L2_FORMS, "l2_form")
        if self.criterion == "bce" and self.output.name != "sigmoid":  # type: ignore[union-attr]
            raise ValueError(f"loss 'bce' needs a sigmoid output, not {self.output}")
        if self.criterion == "softmax_ce" and self.output.name != "identity":  # type: ignore[union-attr]
            raise ValueError(
                "loss 'softmax_ce' applies the softmax itself: the output activation must be 'identity',"
                f" not {self.output}"
            )
        if self.criterion in ("mse", "softmax_ce") and self.output_reduction != "sum":
            raise ValueError(f"output_reduction applies to half_sse, sse and bce; {self.criterion!r} already fixes it")
        if not self.l2 >= 0:
            raise ValueError(f"l2={self.l2} must be at least 0")

    # -- activations -------------------------------------------------------------------------

    def activation_at(self, layer: int, depth: int) -> Activation:
        """Layer ``layer``'s activation in a network of ``depth`` layers (weight matrices)."""
        return self.output if layer == depth - 1 else self.hidden  # type: ignore[return-value]

    def activations(self, depth: int) -> list[Activation]:
        return [self.activation_at(l, depth) for l in range(depth)]

    @property
    def kinked(self) -> bool:
        """Whether any layer has a kink (ReLU, leaky ReLU)."""
        return self.hidden.kinked or self.output.kinked  # type: ignore[union-attr]

    def activation(self, z: Tensor) -> Tensor:
        """The hidden layers' activation (σ for the seed, where every layer is the same)."""
        return self.hidden(z)  # type: ignore[operator]

    # -- loss --------------------------------------------------------------------------------

    def column_losses(self, a_L: Tensor, y: Tensor) -> Tensor:
        """The loss of each column (example) from the output activation: shape ``[columns]``."""
        if self.criterion == "softmax_ce":
            return -(y * torch.log_softmax(a_L, dim=0)).sum(dim=0)
        if self.criterion == "bce":
            entries = -(y * torch.log(a_L) + (1 - y) * torch.log1p(-a_L))
        else:
            entries = (a_L - y).pow(2) * (0.5 if self.criterion == "half_sse" else 1.0)
        return entries.mean(dim=0) if self.criterion == "mse" or self.output_reduction == "mean" else entries.sum(dim=0)

    def output_losses(self, z_L: Tensor, a_L: Tensor, y: Tensor) -> Tensor:
        """Like :meth:`column_losses`, but bce from the logits ``z_L``, exact where the sigmoid
        saturates (log σ(z) = −softplus(−z)); the others from ``a_L``."""
        if self.criterion != "bce":
            return self.column_losses(a_L, y)
        entries = torch.nn.functional.softplus(z_L) - y * z_L
        return entries.mean(dim=0) if self.output_reduction == "mean" else entries.sum(dim=0)

    def reduce_batch(self, losses: Tensor, dim: int = -1) -> Tensor:
        """Column losses summed or averaged over the batch axis ``dim``."""
        return losses.mean(dim=dim) if self.batch_reduction == "mean" else losses.sum(dim=dim)

    def penalty_factor(self, batch: int) -> float:
        """c in the penalty c·Σθ² (0 without L2)."""
        return self.l2 * (0.5 if self.l2_form == "half" else 1.0) / (batch if self.l2_batch_mean else 1)

    def penalty(self, W: list[Tensor], b: list[Tensor], batch: int) -> Tensor | float:
        """The L2 term added to the data loss."""
        c = self.penalty_factor(batch)
        if c == 0:
            return 0.0
        total: Tensor | int = sum(w.pow(2).sum() for w in W)
        if self.l2_biases:
            total = total + sum(v.pow(2).sum() for v in b)
        return c * total

    def forward(
        self, x: Tensor, W: list[Tensor], b: list[Tensor], *, precise: bool = False
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Pre-activations z⁽ˡ⁾ and activations a⁽ˡ⁾ for every layer, input excluded.

        ``precise=True`` differentiates each activation through :meth:`Activation.derivative`
        instead of torch's formula, so the autograd oracle is exact where sigmoids saturate.
        """
        zs, activations = [], []
        a = x
        for act, W_l, b_l in zip(self.activations(len(W)), W, b):
            z = W_l @ a + b_l
            a = _PreciseActivation.apply(z, act) if precise else act(z)
            zs.append(z)
            activations.append(a)
        return zs, activations

    def objective(
        self, zs: list[Tensor], activations: list[Tensor], y: Tensor, W: list[Tensor], b: list[Tensor]
    ) -> Tensor:
        """The scalar loss from a forward pass (:meth:`forward`): data loss plus penalty."""
        data = self.reduce_batch(self.output_losses(zs[-1], activations[-1], y))
        return data + self.penalty(W, b, y.shape[-1])

    def loss(self, x: Tensor, y: Tensor, W: list[Tensor], b: list[Tensor]) -> Tensor:
        """The scalar loss of the whole case."""
        zs, activations = self.forward(x, W, b)
        return self.objective(zs, activations, y, W, b)

    def describe(self) -> dict[str, Any]:
        """The JSON form: every field that decides the loss."""
        return {
            "name": self.name,
            "batch": self.batch,
            "hidden": str(self.hidden),
            "output": str(self.output),
            "criterion": self.criterion,
            "batch_reduction": self.batch_reduction,
            "output_reduction": self.output_reduction,
            "l2": self.l2,
            "l2_form": self.l2_form,
            "l2_biases": self.l2_biases,
            "l2_batch_mean": self.l2_batch_mean,
            **({} if self.biases else {"biases": False}),
        }


def _one_of(value: str, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not one of {', '.join(allowed)}")


class _PreciseActivation(torch.autograd.Function):
    """An activation, differentiated by its precise derivative."""

    @staticmethod
    def forward(ctx: Any, z: Tensor, act: Activation) -> Tensor:
        ctx.save_for_backward(z)
        ctx.act = act
        return act(z)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        (z,) = ctx.saved_tensors
        return grad * ctx.act.derivative(z), None


SEED = Spec()
