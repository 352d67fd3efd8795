"""Wrapping: the steps put together, so an implementation in any layout is called canonically.

:func:`wrap` returns a ``forward_backward(x, y, W, b)`` that binds the case (:mod:`.binding`),
makes the call (:mod:`.calling`), reads the gradients back (:mod:`.extraction`) and hands the
checker ``(loss, W_grads, b_grads)`` in the canonical layout; with ``compose`` the harness chains
the layers itself (:mod:`.composition`). ``per_example``: the implementation is called once per
example and the results are added up (Nielsen's ``backprop``), averaged if the spec averages.
Whatever cannot be read is passed through as the implementation returned it, so the checker
reports it as it would for canonical code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from ..compare import NoiseFloor, WithNoise
from ..spec import SEED, Spec
from .adapter import Adapter
from .binding import bind
from .calling import call
from .composition import composed
from .extraction import (
    MISSING,
    Extracted,
    named_gradients,
    noise_floor,
    returned_gradients,
    stepped_gradients,
    to_canonical,
    unfold_biases,
)
from .function import function_loss
from .named import get_adapter
from .neurons import neuron_call
from .rewrite import VALUES
from .seam import with_given_parameters

__all__ = ["wrap"]


def wrap(fn: Callable[..., Any], adapter: Adapter | str, spec: Spec = SEED) -> Callable[..., Any]:
    """``fn`` (or a class, with ``adapter.instance``) as a canonical ``forward_backward(x, y, W, b)``."""
    a = get_adapter(adapter) if isinstance(adapter, str) else adapter
    if a.compose:
        return composed(a, fn, spec)
    if a.init:
        fn = _seamed(fn)
    if a.autograd == "loss":
        return function_loss(a, fn)

    def forward_backward(x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]) -> Any:
        if a.per_example and x.shape[1] > 1:
            calls = [_call_once(a, fn, spec, x[:, i : i + 1], y[:, i : i + 1], W, b) for i in range(x.shape[1])]
            if any(got is None for _, got, _ in calls):
                return next(raw for raw, got, _ in calls if got is None)
            scale = _example_scale(spec, x.shape[1])
            result = _add([got for _, got, _ in calls if got is not None], scale)
            if result is None:
                return calls[0][0]
            noise = _add_noise([n for _, _, n in calls], scale)
        else:
            raw, result, noise = _call_once(a, fn, spec, x, y, W, b)
            if result is None:
                return raw
        loss, W_grads, b_grads = result
        if loss is MISSING:  # the implementation returns no loss: the spec's stands in
            loss = spec.loss(x.double(), y.double(), [w.double() for w in W], [v.double() for v in b]).to(x.dtype)
        return WithNoise((loss, W_grads, b_grads), noise) if noise else (loss, W_grads, b_grads)

    forward_backward.__qualname__ = getattr(fn, "__qualname__", "implementation")
    return forward_backward


def _seamed(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` whose own parameter creation takes the harness's parameters (:mod:`.seam`), made
    per set of parameter names (the depth changes them) from the keyword that carries them."""
    made = with_given_parameters(fn)

    def seamed(*args: Any, **kwargs: Any) -> Any:
        return made(frozenset(kwargs.get(VALUES) or ()))(*args, **kwargs)

    seamed.__qualname__ = getattr(fn, "__qualname__", "implementation")
    return seamed


def _call_once(
    a: Adapter, fn: Callable[..., Any], spec: Spec, x: Tensor, y: Tensor, W: Sequence[Tensor], b: Sequence[Tensor]
) -> tuple[Any, Extracted | None, NoiseFloor]:
    """One call: what the implementation returned, what was read from it (None: unreadable), and
    the extraction's own per-entry error (:func:`~.extraction.noise_floor`), canonical."""
    if a.neurons:
        return (*neuron_call(a, fn, x, y, W, b), {})  # its deltas are read exactly: no floor of their own
    widths = [x.shape[0], *(w.shape[0] for w in W)]
    bound = bind(a, x, y, W, b, spec.l2)
    before = bind(a, x, y, W, b) if a.grads_from == "step" else None  # a second set of copies
    raw = call(a, fn, bound, widths, spec.l2)
    noise: NoiseFloor = {}
    if a.grads_from == "return":
        got = returned_gradients(a, raw, W, b)
    else:
        raw, found = raw if a.instance or a.uses_globals else (raw, None)
        if "params" in a.returns:  # the step's result is the returned parameters dict
            found = raw
        loss = raw if a.returns == ("loss",) or (a.script and a.loss_name) else MISSING
        if a.grads_from in ("attributes", "globals"):
            pair = named_gradients(a, found.get, len(W)) if isinstance(found, dict) else None
        else:
            assert before is not None  # bound above for a training step
            pair = stepped_gradients(a, found, bound, before, len(W))
            noise = _canonical_noise(a, noise_floor(a, found, bound, before, len(W)), W, b)
        got = to_canonical(a, loss, *pair, W, b) if pair is not None else None
    if got is None or not isinstance(got[1], list):
        return raw, got, noise
    return raw, (got[0], *unfold_biases(a, got[1], got[2], x, y, W, b, spec)), noise


def _canonical_noise(
    a: Adapter, floor: tuple[list[Any], list[Any]] | None, W: Sequence[Tensor], b: Sequence[Tensor]
) -> NoiseFloor:
    """A noise floor in the implementation's layout -> per (layer, param), canonical, float64.
    Folded biases split like their gradients; a bias-free network's b gets none (the spec's own)."""
    if floor is None:
        return {}
    _, W_floor, b_floor = to_canonical(a, MISSING, *floor, W, b)
    if a.bias in ("folded", "folded-first"):
        W_floor, b_floor = unfold_biases(a, W_floor, [], W[0], W[0], W, b, SEED)  # x, y, spec: for "none" only
    pairs = [("W", W_floor), ("b", [] if a.bias == "none" else b_floor)]
    return {
        (layer, param): f.detach().to(device="cpu", dtype=torch.float64)
        for param, floors in pairs
        for layer, f in enumerate(floors)
        if isinstance(f, Tensor)
    }


def _add_noise(floors: list[NoiseFloor], scale: float) -> NoiseFloor:
    """Per-example floors added up like their gradients: the errors of a sum add."""
    keys = set().union(*floors) if floors else set()
    return {k: torch.stack([f[k] for f in floors if k in f]).sum(dim=0).mul(abs(scale)) for k in keys}


def _example_scale(spec: Spec, examples: int) -> float:
    """What the per-example sum is multiplied by: 1/B if the spec averages over the batch."""
    return 1 / examples if spec.batch_reduction == "mean" else 1.0


def _add(results: list[Extracted], scale: float) -> Extracted | None:
    """Per-example results added up (and scaled), or ``None`` if any is not all tensors."""
    loss0, W0, b0 = results[0]
    if not all(isinstance(g, Tensor) for _, Ws, bs in results for g in (*Ws, *bs)):
        return None
    W_sum = [sum(r[1][layer] for r in results) * scale for layer in range(len(W0))]
    b_sum = [sum(r[2][layer] for r in results) * scale for layer in range(len(b0))]
    loss = MISSING if loss0 is MISSING else sum(r[0] for r in results) * scale
    return loss, W_sum, b_sum
