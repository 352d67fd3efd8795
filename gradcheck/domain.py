"""The case domain: which networks, batches, values and dtypes an implementation is judged on.

Real code is written for a problem, not for every problem: a deeplearning.ai binary classifier
asserts one output unit, a CS231n ``TwoLayerNet`` has exactly two layers, a class-label loss
wants one-hot targets. Judging such code outside its domain rejects correct students. A
:class:`Domain` states the domain once; the built-in cases are fitted into it
(:meth:`Domain.fit`) and the hypothesis search draws only inside it (:meth:`Domain.search`), so
every case a verdict rests on is one the code was written for. Presets set their course's
domain; the CLI, ``[tool.gradcheck.domain]``, a rubric and the plugin narrow or widen it, and
:meth:`Domain.cli_args` puts it on the reproduction line.

Every field is keyword-only and checked when the domain is built, with a message that echoes the
argument (``min_depth=3 is larger than max_depth=1``), as hypothesis's strategies do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis.strategies import SearchStrategy

from . import strategies as gs
from .cases import DTYPES, REGIMES, ROBUSTNESS_REGIMES, TARGETS, CaseSpec
from .validation import check_int, check_names, check_range

__all__ = ["DEFAULT_DOMAIN", "Domain"]

# The search's own caps when the domain leaves depth and width open: deep and wide enough for
# every architecture bug the corpus knows, small enough that 100 examples take about a second.
_SEARCH_MAX_DEPTH = 4
_SEARCH_MAX_WIDTH = 6


@dataclass(frozen=True, kw_only=True)
class Domain:
    """The cases an implementation is written for; the default admits every built-in case."""

    min_depth: int = 1
    max_depth: int = 5
    min_width: int = 1
    max_width: int = 8
    input_width: int | None = None  # fixed n_0, e.g. the 400 pixels of Coursera ex4
    output_width: int | None = None  # fixed n_L, e.g. 1 for a binary classifier
    min_batch: int = 1
    max_batch: int = 5
    regimes: tuple[str, ...] = tuple(r for r in REGIMES if r not in ROBUSTNESS_REGIMES)
    dtypes: tuple[str, ...] = ("float64", "float32")
    targets: str = "loss"  # how y is drawn: see gradcheck.cases.TARGETS
    # A layer op's extra input dimensions, one entry per shape drawn: () is [B, in], (3,) is
    # [B, 3, in] (an autograd.Function whose backward handles only 2-D shows on the second).
    # Layer ops only: a full network is judged on 2-D inputs, the () entry.
    leading: tuple[tuple[int, ...], ...] = ((), (3,))

    def __post_init__(self) -> None:
        check_range(self.min_depth, self.max_depth, "min_depth", "max_depth", 1)
        check_range(self.min_width, self.max_width, "min_width", "max_width", 1)
        check_range(self.min_batch, self.max_batch, "min_batch", "max_batch", 1)
        for name in ("input_width", "output_width"):
            if getattr(self, name) is not None:
                check_int(getattr(self, name), name, 1)
        if not isinstance(self.regimes, tuple) or not isinstance(self.dtypes, tuple):
            raise ValueError(f"regimes={self.regimes!r} and dtypes={self.dtypes!r} must be tuples of names")
        check_names(self.regimes, "regimes", tuple(REGIMES))
        check_names(self.dtypes, "dtypes", tuple(DTYPES))
        if self.targets not in TARGETS:
            raise ValueError(f"targets={self.targets!r} is not one of {', '.join(TARGETS)}")
        self._check_leading()

    def _check_leading(self) -> None:
        shapes = self.leading
        if not isinstance(shapes, tuple) or not shapes or not all(isinstance(dims, tuple) for dims in shapes):
            raise ValueError(f"leading={shapes!r} must be a non-empty list of shapes, e.g. [[], [3]]")
        for dims in shapes:
            for n in dims:
                check_int(n, f"leading={[list(d) for d in shapes]}: dimension", 1)

    def require_flat(self) -> None:
        """Refuse a domain that asks a full network for N-D inputs: networks take ``[B, in]``."""
        if () not in self.leading:
            shown = [list(d) for d in self.leading]
            raise ValueError(
                f"domain leading={shown}: a full network is checked on 2-D inputs only; extra leading "
                'dimensions apply to layer ops (adapter autograd="op"); include [] for a network'
            )

    def replace(self, **changes: object) -> Domain:
        """This domain with some fields changed (and checked again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def fit(self, case: CaseSpec) -> CaseSpec | None:
        """``case`` moved into the domain (fixed widths set, widths and batch clamped), or
        ``None`` where its depth, regime or dtype is outside it."""
        if not self.min_depth <= case.depth <= self.max_depth:
            return None
        if case.regime not in self.regimes or case.dtype not in self.dtypes:
            return None
        widths = [min(max(w, self.min_width), self.max_width) for w in case.widths]
        if self.input_width is not None:
            widths[0] = self.input_width
        if self.output_width is not None:
            widths[-1] = self.output_width
        batch = min(max(case.batch, self.min_batch), self.max_batch) if case.batch > 1 or self.min_batch > 1 else 1
        return dataclasses.replace(case, widths=tuple(widths), batch=batch, targets=self.targets)

    def fit_all(self, cases: Sequence[CaseSpec]) -> list[CaseSpec]:
        """Every case that fits, moved into the domain, without repeats, in order; never empty:
        a domain that no built-in case fits gets its own smallest case."""
        fitted = list(dict.fromkeys(f for f in map(self.fit, cases) if f is not None))
        return fitted or [self.smallest(seed=cases[0].seed if cases else 0)]

    def fit_op(self, case: CaseSpec) -> list[CaseSpec]:
        """A one-layer op case (``widths = (n_in, n_out)``) moved into the domain, once per
        ``leading`` shape; ``[]`` where its regime or dtype is outside it."""
        if case.regime not in self.regimes or case.dtype not in self.dtypes:
            return []
        n_in, n_out = (min(max(w, self.min_width), self.max_width) for w in case.widths)
        widths = (self.input_width or n_in, self.output_width or n_out)
        batch = min(max(case.batch, self.min_batch), self.max_batch)
        return [dataclasses.replace(case, widths=widths, batch=batch, leading=dims) for dims in self.leading]

    def op_search(self, *, devices: Sequence[str]) -> SearchStrategy[CaseSpec]:
        """The search's one-layer op cases: inside the domain, shrinking toward the smallest
        widths and batch and the first ``leading`` shape."""
        st = gs.st
        width = st.integers(self.min_width, min(self.max_width, max(self.min_width, _SEARCH_MAX_WIDTH)))
        return st.builds(
            CaseSpec,
            widths=st.tuples(width, width).map(lambda w: (self.input_width or w[0], self.output_width or w[1])),
            batch=st.integers(self.min_batch, self.max_batch),
            dtype=st.sampled_from(self.dtypes),
            device=gs.devices(names=devices),
            regime=gs.regimes(names=self.regimes),
            seed=st.integers(0, 2**16),
            leading=st.sampled_from(self.leading),
        )

    def smallest(self, *, seed: int = 0) -> CaseSpec:
        """The simplest case in the domain: shallowest, narrowest, first regime and dtype."""
        widths = [self.min_width] * (self.min_depth + 1)
        if self.input_width is not None:
            widths[0] = self.input_width
        if self.output_width is not None:
            widths[-1] = self.output_width
        return CaseSpec(
            tuple(widths),
            batch=self.min_batch,
            dtype=self.dtypes[0],
            regime=self.regimes[0],
            seed=seed,
            targets=self.targets,
        )

    def search(self, *, batch: bool, devices: Sequence[str], half: bool = False) -> SearchStrategy[CaseSpec]:
        """The hypothesis search's cases: inside the domain, shrinking toward :meth:`smallest`."""
        max_depth = min(self.max_depth, max(self.min_depth, _SEARCH_MAX_DEPTH))
        max_width = min(self.max_width, max(self.min_width, _SEARCH_MAX_WIDTH))
        widths = gs.architectures(
            min_depth=self.min_depth, max_depth=max_depth, min_width=self.min_width, max_width=max_width
        ).map(self._pin_widths)
        dtypes = tuple(d for d in (*gs.FULL_PRECISION, *(gs.HALF_PRECISION if half else ())) if d in self.dtypes)
        strategy = gs.case_specs(
            widths=widths,
            batch=gs.batch_sizes(min_batch=self.min_batch, max_batch=self.max_batch) if batch else None,
            device=gs.devices(names=devices),
            dtype=gs.st.sampled_from(dtypes or self.dtypes),
            regime=gs.regimes(names=self.regimes),
        )
        return strategy.map(lambda case: dataclasses.replace(case, targets=self.targets))

    def _pin_widths(self, widths: tuple[int, ...]) -> tuple[int, ...]:
        pinned = list(widths)
        if self.input_width is not None:
            pinned[0] = self.input_width
        if self.output_width is not None:
            pinned[-1] = self.output_width
        return tuple(pinned)

    def cli_args(self) -> str:
        """The ``--domain-option`` flags that rebuild this domain from the default one."""
        default = DEFAULT_DOMAIN
        parts = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value != getattr(default, field.name):
                if field.name == "leading":
                    parts.append(f"--domain-option 'leading={[list(d) for d in value]}'")
                    continue
                shown = ",".join(value) if isinstance(value, tuple) else str(value)
                parts.append(f"--domain-option {field.name}={shown}")
        return " ".join(parts)


DEFAULT_DOMAIN = Domain()
