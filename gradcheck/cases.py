"""Cases: the inputs (x, y, W, b) an implementation is called with.

A case is fully determined by its :class:`CaseSpec` (widths, batch, dtype, device, regime,
seed), so any failing case can be rebuilt from one command line. Values are drawn in float64
on the CPU from a generator seeded by the spec, then cast and moved: the float32 case is the
float64 case rounded, and the CPU and CUDA cases hold the same numbers.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .spec import SEED, Spec

__all__ = [
    "DTYPES",
    "REGIMES",
    "TARGETS",
    "Case",
    "CaseSpec",
    "builtin_cases",
    "draw_layer_op",
    "make_case",
    "parse_dtype",
    "valid_targets",
]

# How far from zero the values sit: the scale W and b are drawn at (x is standard normal).
# "saturated" and "large" are then bounded where the specification needs it (see
# _bound_pre_activations), so that they mean the same under every specification: the
# activations' saturation region, never overflow in a careful implementation. Values past that
# are "extreme", a robustness regime of its own (ROBUSTNESS_REGIMES).
REGIMES = {"normal": 1.0, "saturated": 100.0, "tiny": 1e-3, "large": 10.0, "extreme": 100.0}
# Regimes in which a careful textbook implementation may overflow or underflow: judged by their
# own check, never drawn unless asked for.
ROBUSTNESS_REGIMES = ("extreme",)
# The largest |z| a bounded regime allows in a layer that needs a bound. At |z| = 30 the
# activations are flat (σ′ ≈ 9e-14, below float32's resolution of a(1 − a)), yet a
# max-shifted softmax sees logit gaps of at most 60 (exp(−60) is a normal float32, so log p_y
# is finite) and log(1 − σ(z)) is still finite in float64.
_PEAK_Z = 30.0
# Activations whose outputs stay in [−1, 1] whatever z: a layer of them needs no bound of its
# own; unbounded ones (ReLU, identity) compound from layer to layer.
_BOUNDED = ("sigmoid", "tanh")

DTYPES = {"float64": torch.float64, "float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


# How the targets y are drawn. "loss": what the loss takes (0/1 per output for bce, one-hot
# columns for softmax cross-entropy, values in (0, 1) otherwise); "one-hot": one class per
# example whatever the loss (a class label recoded, as Coursera ex4 does for its bce);
# "multi-label": 0 or 1 per output, independently.
TARGETS = ("loss", "one-hot", "multi-label")


def parse_dtype(name: str) -> torch.dtype:
    """``"float32"`` -> ``torch.float32``; a clear error for anything else."""
    try:
        return DTYPES[name]
    except KeyError:
        raise ValueError(f"dtype={name!r} is not one of {', '.join(DTYPES)}") from None


@dataclass(frozen=True)
class CaseSpec:
    """Everything needed to rebuild a case: its architecture, batch, dtype, device and values."""

    widths: tuple[int, ...]
    batch: int = 1
    dtype: str = "float64"
    device: str = "cpu"
    regime: str = "normal"
    seed: int = 0
    targets: str = "loss"
    # Extra leading dimensions of a layer op's input: () for [B, in], (3,) for [B, 3, in]. Only
    # the one-layer op checks (gradcheck.layercheck) draw them; networks take 2-D inputs.
    leading: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(self.widths) < 2:
            raise ValueError(f"widths={list(self.widths)} needs at least an input and an output width")
        if min(self.widths) < 1:
            raise ValueError(f"widths={list(self.widths)} has a width below 1")
        if self.batch < 1:
            raise ValueError(f"batch={self.batch} must be at least 1")
        if self.regime not in REGIMES:
            raise ValueError(f"regime={self.regime!r} is not one of {', '.join(REGIMES)}")
        if self.targets not in TARGETS:
            raise ValueError(f"targets={self.targets!r} is not one of {', '.join(TARGETS)}")
        parse_dtype(self.dtype)
        if not isinstance(self.leading, tuple) or any(
            isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in self.leading
        ):
            raise ValueError(f"leading={self.leading!r} must be a tuple of dimensions, each at least 1")

    @property
    def depth(self) -> int:
        """Number of layers (weight matrices), L + 1 in the seed's notation."""
        return len(self.widths) - 1

    @property
    def size(self) -> int:
        """Number of parameters, batch included as a tie-breaker: what "smallest case" means."""
        return sum(m * n + m for n, m in zip(self.widths, self.widths[1:])) * self.batch * math.prod(self.leading)

    def describe(self) -> dict[str, Any]:
        """The JSON form used in reports (``case`` in the CLI contract); ``targets`` only when
        they are not the loss's own."""
        described = {
            "widths": list(self.widths),
            "batch": self.batch,
            "device": self.device,
            "dtype": self.dtype,
            "regime": self.regime,
            "seed": self.seed,
        }
        if self.targets != "loss":
            described["targets"] = self.targets
        if self.leading:
            described["leading"] = list(self.leading)
        return described

    def cli_args(self) -> str:
        """The ``gradcheck check`` options that rebuild exactly this case."""
        parts = [f"--widths {','.join(map(str, self.widths))}", f"--dtype {self.dtype}"]
        if self.batch > 1:
            parts.append(f"--batch --batch-size {self.batch}")
        if self.regime != "normal":
            parts.append(f"--regime {self.regime}")
        if self.device != "cpu":
            parts.append(f"--device {self.device}")
        parts.append(f"--seed {self.seed}")
        if self.targets != "loss":
            parts.append(f"--domain-option targets={self.targets}")
        if self.leading:
            parts.append(f"--domain-option 'leading=[{list(self.leading)}]'")
        return " ".join(parts)


@dataclass
class Case:
    """A concrete call: ``forward_backward(x, y, W, b)`` for one :class:`CaseSpec`."""

    spec: CaseSpec
    x: Tensor
    y: Tensor
    W: list[Tensor] = field(default_factory=list)
    b: list[Tensor] = field(default_factory=list)

    def tensors(self) -> dict[str, Tensor]:
        """Every input by a readable name (``x``, ``y``, ``W[0]``, ``b[0]``, ...)."""
        named = {"x": self.x, "y": self.y}
        for l, (W_l, b_l) in enumerate(zip(self.W, self.b)):
            named[f"W[{l}]"] = W_l
            named[f"b[{l}]"] = b_l
        return named

    def fresh_copy(self) -> Case:
        """Independent copies of every tensor, so a mutating implementation can't spoil the case."""
        return Case(self.spec, self.x.clone(), self.y.clone(), [w.clone() for w in self.W], [c.clone() for c in self.b])

    def as_float64_cpu(self) -> Case:
        """The same numbers where the oracles work: float64 on the CPU."""

        def up(t: Tensor) -> Tensor:
            return t.detach().to(device="cpu", dtype=torch.float64)

        return Case(self.spec, up(self.x), up(self.y), [up(w) for w in self.W], [up(c) for c in self.b])


def _generator(spec: CaseSpec) -> torch.Generator:
    key = f"{spec.seed}|{spec.widths}|{spec.batch}|{spec.regime}"  # targets derive from the same draws
    key += f"|{spec.leading}" if spec.leading else ""  # a 2-D case keeps its values
    return torch.Generator().manual_seed(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little"))


def valid_targets(loss: str, y: Tensor, targets: str = "loss") -> Tensor:
    """Targets valid for ``loss``, derived from uniform draws ``y`` in (0, 1) ``[n_L, B]``.

    ``bce``: 0 or 1 (y > ½); ``softmax_ce``: one-hot columns (the class is the column's
    argmax, uniform over classes); anything else: ``y`` itself. ``targets`` (see
    :data:`TARGETS`) asks for one-hot or multi-label targets whatever the loss. Derived rather
    than drawn, so x, W and b are the same numbers whatever the loss.
    """
    if targets == "one-hot" or (targets == "loss" and loss == "softmax_ce"):
        return torch.nn.functional.one_hot(y.argmax(dim=0), y.shape[0]).T.to(y.dtype)
    if targets == "multi-label" or loss == "bce":
        return (y > 0.5).to(y.dtype)
    return y


def make_case(spec: CaseSpec, loss_spec: Spec | None = None) -> Case:
    """Draw the case's values (standard normal, like the seed, scaled by the regime).

    ``loss_spec`` (a :class:`gradcheck.spec.Spec`) makes the targets valid for its loss (see
    :func:`valid_targets`); by default they are the seed's, in (0, 1).
    """
    gen = _generator(spec)
    scale = REGIMES[spec.regime]
    widths = spec.widths

    def draw(*shape: int, s: float = 1.0) -> Tensor:
        return torch.randn(*shape, generator=gen, dtype=torch.float64) * s

    x = draw(widths[0], spec.batch)
    # Targets inside (0, 1), where a sigmoid output can reach them.
    y = torch.rand(widths[-1], spec.batch, generator=gen, dtype=torch.float64)
    if loss_spec is not None or spec.targets != "loss":
        y = valid_targets(loss_spec.criterion if loss_spec is not None else "mse", y, spec.targets)
    W = [draw(m, n, s=scale) for n, m in itertools.pairwise(widths)]
    b = [draw(m, 1, s=scale) for m in widths[1:]]
    if loss_spec is not None and not loss_spec.biases:  # a network without biases: b = 0
        b = [torch.zeros_like(v) for v in b]
    if spec.regime in ("saturated", "large"):
        _bound_pre_activations(x, W, b, loss_spec or SEED)
    dtype = parse_dtype(spec.dtype)

    def place(t: Tensor) -> Tensor:
        return t.to(device=spec.device, dtype=dtype)

    return Case(spec, place(x), place(y), [place(w) for w in W], [place(c) for c in b])


def draw_layer_op(spec: CaseSpec) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One linear layer op's values for ``spec`` (``widths = (n_in, n_out)``), in float64 on the
    CPU, row-major as ``nn.Linear`` takes them: input ``[B, *leading, n_in]``, W ``[n_out, n_in]``,
    b ``[n_out]``, and a random upstream gradient ``[B, *leading, n_out]`` (random, not ones, so
    a backward that sums the wrong axis or forgets the upstream shows)."""
    gen = _generator(spec)
    scale = REGIMES[spec.regime]
    n_in, n_out = spec.widths
    x = torch.randn(spec.batch, *spec.leading, n_in, generator=gen, dtype=torch.float64)
    W = torch.randn(n_out, n_in, generator=gen, dtype=torch.float64) * scale
    b = torch.randn(n_out, generator=gen, dtype=torch.float64) * scale
    upstream = torch.randn(spec.batch, *spec.leading, n_out, generator=gen, dtype=torch.float64)
    return x, W, b, upstream


def _bound_pre_activations(x: Tensor, W: list[Tensor], b: list[Tensor], spec: Spec) -> None:
    """Scale W⁽ˡ⁾ and b⁽ˡ⁾ down in place, layer by layer, where max |z⁽ˡ⁾| exceeds :data:`_PEAK_Z`
    in a layer that needs a bound: an unbounded activation (its outputs compound above it), or
    the logits of a cross-entropy loss (softmax and log σ are where careful code still
    overflows). A sigmoid network under squared error has none: σ saturates safely at any |z|,
    so the regime there is exactly the raw draw. Going up the layers, each sees the already
    bounded layer below, so the bound holds for the network as drawn."""
    acts = spec.activations(len(W))
    a = x
    for layer, (act, W_l, b_l) in enumerate(zip(acts, W, b)):
        z = W_l @ a + b_l
        logits = layer == len(W) - 1 and spec.criterion in ("bce", "softmax_ce")
        peak = float(z.abs().max())
        if (act.name not in _BOUNDED or logits) and peak > _PEAK_Z:
            W_l.mul_(_PEAK_Z / peak)
            b_l.mul_(_PEAK_Z / peak)
            z = W_l @ a + b_l
        a = act(z)


# The built-in deterministic set: depths 1-5, the seed's 7-5-3-1 demo, width-1 layers, square
# layers, n_L == n_0, n_L > 1 and saturated sigmoids, in float32 and float64. Shapes change from
# one call to the next, so an implementation that keeps state across calls shows it.
_SINGLE = [
    ((7, 5, 3, 1), "normal", "float32"),
    ((7, 5, 3, 1), "normal", "float64"),
    ((4, 3), "normal", "float64"),
    ((3, 1), "normal", "float32"),
    ((3, 4, 2), "normal", "float64"),
    ((5, 4, 3, 2, 3), "normal", "float64"),
    ((6, 5, 4, 3, 2, 1), "normal", "float32"),
    ((1, 1), "normal", "float64"),
    ((3, 1, 4, 2), "normal", "float64"),
    ((1, 1, 1), "normal", "float32"),
    ((4, 4, 4, 4), "normal", "float64"),
    ((3, 5, 3), "normal", "float32"),
    ((2, 3, 4), "normal", "float64"),
    ((7, 5, 3, 1), "saturated", "float64"),
    ((7, 5, 3, 1), "saturated", "float32"),
    ((3, 4, 3), "saturated", "float64"),
    ((3, 4, 3), "saturated", "float32"),
    ((2, 3, 2), "saturated", "float32"),
]
_BATCHED = [
    ((7, 5, 3, 1), 4, "float64"),
    ((3, 1, 4, 2), 3, "float32"),
    ((4, 4, 4, 4), 2, "float64"),
    ((2, 3, 4), 5, "float64"),
    ((1, 1), 3, "float32"),
]


def builtin_cases(*, seed: int = 0, batch: bool = False, devices: tuple[str, ...] = ("cpu",)) -> list[CaseSpec]:
    """The deterministic case list of ``gradcheck check``, on every requested device."""
    specs = []
    for device in devices:
        specs += [CaseSpec(w, 1, dt, device, regime, seed) for w, regime, dt in _SINGLE]
        if batch:
            specs += [CaseSpec(w, B, dt, device, "normal", seed) for w, B, dt in _BATCHED]
    return specs
