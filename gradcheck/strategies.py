"""Hypothesis strategies for backprop cases: any depth, width, batch, device, dtype and regime.

A fixed list of cases misses bugs that live in particular architectures (n_L = n_0, width-1
layers, one layer, three or more), regimes (saturated sigmoids, B > 1) and devices. These
strategies explore them, and every one is built so that hypothesis shrinks a failure toward the
simplest case that still shows it: **shallow, narrow, B = 1, cpu, float64, normal values,
seed 0**. The draws of :func:`case_specs` come in that order, each from a strategy whose simplest
value is the first one listed, so the reported network is the smallest that fails.

Use them in your own tests::

    from hypothesis import given
    from gradcheck import strategies as gs

    @given(gs.cases(widths=gs.architectures(max_depth=3)))
    def test_my_backprop(case):
        loss, W_grads, b_grads = my_forward_backward(case.x, case.y, case.W, case.b)
        ...

Every argument is keyword-only and checked when the strategy is built (not when it is drawn),
with a message that names the argument and its value, e.g. ``min_depth=3 is larger than
max_depth=1``. Importing this module does not touch CUDA: :func:`devices` looks for GPUs only
when a value is first drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from .cases import REGIMES, ROBUSTNESS_REGIMES, Case, CaseSpec, make_case
from .validation import check_int, check_names, check_range

__all__ = [
    "FULL_PRECISION",
    "HALF_PRECISION",
    "architectures",
    "available_devices",
    "batch_sizes",
    "case_specs",
    "cases",
    "devices",
    "dtypes",
    "regimes",
    "seeds",
]

FULL_PRECISION = ("float64", "float32")
"""Drawn by default; float64 first, so failures shrink to it."""

HALF_PRECISION = ("float16", "bfloat16")
"""Drawn only with ``dtypes(half=True)``: their tolerances (:data:`gradcheck.compare.TOLERANCES`)
are loose enough for round-off, but a correct float32 solution can still be 1e-2 off there."""


def _check_int(value: object, name: str, minimum: int) -> None:
    check_int(value, name, minimum, error=InvalidArgument)


def _check_range(low: int, high: int, low_name: str, high_name: str, minimum: int) -> None:
    check_range(low, high, low_name, high_name, minimum, error=InvalidArgument)


def _check_names(names: object, name: str, allowed: Sequence[str]) -> tuple[str, ...]:
    return check_names(names, name, allowed, error=InvalidArgument)


def _check_strategy(value: object, name: str) -> None:
    if not isinstance(value, SearchStrategy):
        raise InvalidArgument(f"{name}={value!r} must be a hypothesis strategy (e.g. st.just({value!r}))")


def architectures(
    *, min_depth: int = 1, max_depth: int = 4, min_width: int = 1, max_width: int = 6
) -> SearchStrategy[tuple[int, ...]]:
    """Layer widths ``(n_0, ..., n_L)``: ``depth`` weight matrices, so ``depth + 1`` widths.

    * ``min_depth=1``: the one-layer network is where ``a[l-1]`` at ``l = 0`` breaks first.
    * ``max_depth=4``: depth-3 bugs (a δ passed through two hidden layers) need three layers;
      a fourth adds a hidden-to-hidden step without making finite differences slow.
    * ``min_width=1``: width-1 layers are where ``squeeze()`` and broadcasting bugs live.
    * ``max_width=6``: enough for distinct, non-square shapes (so transposes show) while a case
      stays small enough to check in milliseconds.

    Widths are drawn as one list, which hypothesis shrinks by dropping layers first and then
    narrowing each: toward ``(1, 1)``.
    """
    _check_range(min_depth, max_depth, "min_depth", "max_depth", 1)
    _check_range(min_width, max_width, "min_width", "max_width", 1)
    widths = st.integers(min_value=min_width, max_value=max_width)
    return st.lists(widths, min_size=min_depth + 1, max_size=max_depth + 1).map(tuple)


def batch_sizes(*, min_batch: int = 1, max_batch: int = 4) -> SearchStrategy[int]:
    """The number of columns ``B`` of ``x`` (for implementations checked with ``batch``).

    ``max_batch=4`` covers B > 1 and B equal to a layer width (where a sum over the wrong axis
    keeps the right shape) without multiplying the cost; shrinks toward ``min_batch``.
    """
    _check_range(min_batch, max_batch, "min_batch", "max_batch", 1)
    return st.integers(min_value=min_batch, max_value=max_batch)


def available_devices() -> tuple[str, ...]:
    """The devices a check covers by default, cpu first: ``cpu``, then ``cuda`` where torch sees a GPU.

    The one definition, for ``gradcheck.check``, the CLI, the plugin and :func:`devices`. One GPU
    stands for all (the kernels are the same), so a many-GPU machine does not multiply the run;
    MPS is left out because it has no float64, the dtype every check starts from. Name others
    explicitly (``devices=``, ``--device cuda:1``). ``torch.cuda.device_count()`` asks the
    driver without creating a CUDA context.
    """
    import torch

    return ("cpu", "cuda") if torch.cuda.device_count() > 0 else ("cpu",)


def devices(*, names: Sequence[str] | None = None) -> SearchStrategy[str]:
    """A device name, shrinking to ``cpu``.

    ``names=None`` means the default devices here (:func:`available_devices`), looked up when
    the first value is drawn, so building or importing the strategy never initialises CUDA.
    Explicit ``names`` are taken as given, in order (the first is where failures shrink to).
    """
    if names is None:
        return st.deferred(lambda: st.sampled_from(available_devices()))
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise InvalidArgument(f"names={names!r} must be a non-empty sequence of device names, e.g. ['cpu', 'cuda:0']")
    import torch

    for name in names:
        try:
            torch.device(name)
        except (RuntimeError, TypeError):
            raise InvalidArgument(f"names={list(names)!r}: {name!r} is not a torch device name") from None
    return st.sampled_from(tuple(names))


def dtypes(*, half: bool = False) -> SearchStrategy[str]:
    """A dtype name for the case (``"float64"``, ``"float32"``, ...), shrinking to ``float64``.

    ``half=False`` because float16 and bfloat16 are opt-in: the harness has tolerances for them
    (:data:`gradcheck.compare.TOLERANCES`), but most implementations are written for, and
    should be judged in, float32 and float64.
    """
    if not isinstance(half, bool):
        raise InvalidArgument(f"half={half!r} must be True or False")
    return st.sampled_from(FULL_PRECISION + (HALF_PRECISION if half else ()))


def regimes(*, names: Sequence[str] | None = None) -> SearchStrategy[str]:
    """A value regime, shrinking to ``normal``.

    ``saturated`` puts every layer's largest ``|z|`` at 40 (σ′ underflows to about 4e-18, naive
    formulas flush it to zero), ``tiny`` and ``large`` stress magnitudes (``large``: inputs and
    gradients well above 1); see :data:`gradcheck.cases.REGIMES`. All four by default, because
    bugs that only show in one of them are the ones a fixed list misses; ``extreme`` (overflow
    territory, :data:`gradcheck.cases.ROBUSTNESS_REGIMES`) only when named.
    """
    default = [name for name in REGIMES if name not in ROBUSTNESS_REGIMES]
    return st.sampled_from(_check_names(default if names is None else names, "names", tuple(REGIMES)))


def seeds(*, max_seed: int = 2**16 - 1) -> SearchStrategy[int]:
    """The seed of a case's values; shrinks to 0, so a failure's values are the plainest ones."""
    _check_int(max_seed, "max_seed", 0)
    return st.integers(min_value=0, max_value=max_seed)


def case_specs(
    *,
    widths: SearchStrategy[tuple[int, ...]] | None = None,
    batch: SearchStrategy[int] | None = None,
    device: SearchStrategy[str] | None = None,
    dtype: SearchStrategy[str] | None = None,
    regime: SearchStrategy[str] | None = None,
    seed: SearchStrategy[int] | None = None,
) -> SearchStrategy[CaseSpec]:
    """Whole :class:`~gradcheck.cases.CaseSpec` values; each argument is a strategy for that field.

    Defaults: :func:`architectures`, ``B = 1`` (the seed's single-instance contract: pass
    ``batch=batch_sizes()`` for implementations that take batches), every available device,
    float64/float32, every regime, any seed. Fields are drawn in the order shallow, narrow,
    B = 1, cpu, float64, so shrinking simplifies the network before anything else.
    """
    given = {"widths": widths, "batch": batch, "device": device, "dtype": dtype, "regime": regime, "seed": seed}
    for name, value in given.items():
        if value is not None:
            _check_strategy(value, name)
    defaults = {
        "widths": architectures(),
        "batch": st.just(1),
        "device": devices(),
        "dtype": dtypes(),
        "regime": regimes(),
        "seed": seeds(),
    }
    return _case_specs(**{name: defaults[name] if value is None else value for name, value in given.items()})


@st.composite
def _case_specs(draw, widths, batch, device, dtype, regime, seed) -> CaseSpec:
    return CaseSpec(
        widths=tuple(draw(widths)),
        batch=draw(batch),
        device=draw(device),
        dtype=draw(dtype),
        regime=draw(regime),
        seed=draw(seed),
    )


def cases(**kwargs) -> SearchStrategy[Case]:
    """Concrete cases ``(x, y, W, b)``: :func:`case_specs` (same keyword arguments), then built.

    The tensors are fully determined by the drawn spec, so a failure is rebuilt from its
    ``CaseSpec`` (``gradcheck check TARGET`` plus ``spec.cli_args()``).
    """
    return case_specs(**kwargs).map(make_case)
