"""What the whole run shows beyond any single case: which cases fail, and what they have in common.

A failure is folded to its smallest case, but the other cases are evidence too: a bug that
fails every one-layer network and no deeper one is a depth problem, one that fails exactly
the networks with a width-1 layer is a squeeze problem, and one that only fails calls that
repeat an earlier call's shapes is state kept between calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from ..cases import CaseSpec
from ..checker import CaseResult, Failure
from .facts import gradient_key

__all__ = [
    "depth_partition",
    "distinct",
    "echoes_earlier_call",
    "fails_only_when_stale",
    "fresh_flags",
    "owner_map",
    "partition",
    "same_key",
    "signature",
    "unit_width_partition",
]


def signature(case: CaseSpec) -> tuple:
    """What a stateful implementation could key a cache on: shapes, dtype, device."""
    return (case.widths, case.batch, case.dtype, case.device)


def fresh_flags(results: list[CaseResult]) -> list[bool]:
    """For each call, whether no earlier call had the same shapes, dtype and device."""
    seen: set = set()
    flags = []
    for r in results:
        flags.append(signature(r.case) not in seen)
        seen.add(signature(r.case))
    return flags


def distinct(results: list[CaseResult]) -> list[CaseResult]:
    """Each case once (the run repeats its first case at the end to expose hidden state)."""
    seen: set = set()
    unique = []
    for r in results:
        if r.case not in seen:
            seen.add(r.case)
            unique.append(r)
    return unique


def partition(
    results: Iterable[CaseResult], failed: Callable[[CaseResult], bool], feature: Callable[[CaseSpec], object]
) -> tuple[set, set] | None:
    """(feature values of failing cases, of passing cases) when they don't overlap, else None.

    Both sides need at least two cases, so one odd case is never a pattern.
    """
    bad: list[object] = []
    good: list[object] = []
    for r in results:
        (bad if failed(r) else good).append(feature(r.case))
    if len(bad) < 2 or len(good) < 2 or set(bad) & set(good):
        return None
    return set(bad), set(good)


def depth_partition(results: list[CaseResult], failed: Callable[[CaseResult], bool]) -> tuple[set, set] | None:
    """Failing and passing depths, when the depth alone decides."""
    return partition(distinct(results), failed, lambda c: c.depth)


def unit_width_partition(results: list[CaseResult], failed: Callable[[CaseResult], bool]) -> bool:
    """Whether exactly the cases with a width-1 layer fail."""
    split = partition(distinct(results), failed, lambda c: 1 in c.widths[1:])
    return split is not None and split[0] == {True}


def fails_only_when_stale(results: list[CaseResult], key: tuple) -> bool:
    """Whether a failure (by its fold key) shows only in calls that repeat earlier shapes."""
    flags = fresh_flags(results)
    hits = [fresh for r, fresh in zip(results, flags) if any(f.key == key for f in r.failures)]
    return bool(hits) and not any(hits)


def echoes_earlier_call(results: list[CaseResult]) -> str | None:
    """How a call repeats or accumulates an earlier same-shaped call's gradients, if one does.

    A cache returns the earlier result again; a buffer that is never zeroed returns the earlier
    result plus this call's. Either is state kept between calls, seen directly.
    """
    for i, r in enumerate(results):
        earlier = [e for e in results[:i] if signature(e.case) == signature(r.case) and e.case != r.case]
        for f in r.failures:
            if f.check != "gradient-values" or r.truth is None:
                continue
            key = gradient_key(f)
            got = r.returned.get(key)
            if got is None:
                continue
            for e in earlier:
                before = e.returned.get(key)
                if before is None:
                    continue
                if torch.equal(got, before):
                    return (
                        f"{f.param}_grads[{f.layer}] in the case {list(r.case.widths)} (seed {r.case.seed}) "
                        "is the earlier call's result again"
                    )
                if torch.allclose(got - r.truth.autograd.param(*key), before, rtol=1e-6, atol=1e-12):
                    return (
                        f"{f.param}_grads[{f.layer}] in the case {list(r.case.widths)} (seed {r.case.seed}) "
                        "is this call's gradient plus the earlier call's"
                    )
    return None


def owner_map(results: list[CaseResult]) -> dict[int, CaseResult]:
    """id(failure) -> the case result it came from."""
    return {id(f): r for r in results for f in r.failures}


def same_key(results: list[CaseResult], failure: Failure) -> list[tuple[CaseResult, Failure]]:
    """Every case's instance of the same problem (check, layer, param, kind)."""
    return [(r, f) for r in distinct(results) for f in r.failures if f.key == failure.key]
