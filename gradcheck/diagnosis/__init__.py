"""Diagnosis: name the most likely bug behind each failure, root cause first, in the equations' terms.

The oracle knows every true quantity (z⁽ˡ⁾, a⁽ˡ⁾, δ⁽ˡ⁾, the gradients), so explanations are
*tested*, not guessed: each known bug is turned into the tensor it would have returned, and the
one that reproduces what came back wins (:mod:`.explanations`). Each case is walked from the
loss down (:mod:`.walk`): the first wrong δ or gradient is the root, and what the layers below
merely inherit is marked as a consequence. The run's other cases add what one case can't show
(:mod:`.patterns`): right only at some depths, broken by width-1 layers, state between calls.
When nothing fits, the failure is ``unclassified`` with the evidence (ratio, cosine, pattern).

Pipeline: per-check rule (:mod:`.rules`) -> run-wide patterns -> consolidation (one bug, many
sightings) -> hint text (:mod:`.hints`), returned as one :class:`~gradcheck.records.Diagnosis`
per folded failure of the report, by its key; the report itself is left as it was.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..records import Diagnosis, EvidenceValue, Failure, FailureKey, describe_failure
from ..report import Report
from ..spec import SEED, Spec
from .explanations import Explanation
from .facts import failure_label
from .hints import (
    DIAGNOSIS_IDS,
    FIXES,
    consequence_hint,
    forward_hint,
    make_hint,
    nan_repeat_hint,
    shape_error_hint,
    stale_hint,
)
from .patterns import depth_partition, distinct, fails_only_when_stale, unit_width_partition
from .rules import CHECK_RULES, Context

__all__ = ["DIAGNOSIS_IDS", "FIXES", "diagnose", "diagnosed"]

# Bugs that raise a shape error wherever the shapes don't happen to line up.
SHAPE_SENSITIVE = {
    "missing-transpose-in-backprop",
    "wrong-weight-in-backprop",
    "wrong-activation-derivative",
    "transposed-weight-gradient",
    "outer-product-wrong-activation",
    "layer0-uses-wrong-input",
    "relu-mask-wrong-layer",
}
_SHAPE_ERROR = re.compile(
    r"shapes cannot be multiplied|must match the size|size mismatch|cannot be broadcast|Expected size"
    r"|Incompatible|inconsistent",
    re.I,
)
# Checks whose failures prove their bug by themselves: the run's patterns (depth, width 1, λ)
# don't rename them.
_SELF_EVIDENT = ("call", "returns", "input-mutation", "hidden-state", "gradient-dtypes", "gradient-devices")


def _explain(ctx: Context, f: Failure) -> Explanation:
    """The per-check rule, guarded: a diagnosis problem must never hide the failure itself."""
    try:
        return CHECK_RULES[f.check](ctx, f)  # type: ignore[index]
    except Exception as exc:  # noqa: BLE001 - report it as evidence, keep the verdict
        return Explanation(
            "unclassified",
            "the diagnosis could not analyse this failure",
            0.0,
            {"diagnosis_error": f"{type(exc).__name__}: {exc}"},
        )


def depth_handling(failing: set[int], passing: set[int]) -> bool:
    """Whether a split by depth means the code handles depths differently.

    Many bugs hide in a one-layer network (no hidden layer, a one-entry list to reverse), so
    passing only at depth 1 proves nothing. Two splits do: only one-layer networks fail (a
    broken one-layer path), or one depth passes with failures on both sides (a hard-coded depth).
    """
    if failing == {1}:
        return True
    return len(passing) == 1 and min(passing) > 1 and min(failing) < min(passing) < max(failing)


def _patterns(ctx: Context, f: Failure, e: Explanation) -> Explanation:
    """What the whole run says about this failure: stale state, depth, width-1 layers."""
    results = ctx.results
    if f.check not in ("hidden-state", "input-mutation") and fails_only_when_stale(results, f.key):
        if ctx.stateful:
            return Explanation("hidden-state", "", 0.9, {}, consequence_of="hidden-state")
        if ctx.echo:
            return Explanation(
                "hidden-state",
                f"this fails only in calls that repeat an earlier call's shapes, and {ctx.echo}",
                0.9,
                {"pattern": "fails only in calls that repeat an earlier call's shapes"},
            )
    if ctx.stateful or ctx.echo or f.check in _SELF_EVIDENT:
        return e
    hard_coded = _only_at_other_regularisation(ctx)
    if hard_coded:
        return Explanation("regularization-hard-coded", hard_coded, 0.9, {"pattern": "fails only at λ = 0"})
    any_failure = lambda r: bool(r.failures)  # noqa: E731
    if unit_width_partition(results, any_failure):
        return _renamed(
            e,
            "width-one-layer",
            f"every network with a width-1 layer fails and every other one passes; here: {e.detail or e.id}",
            "fails exactly when a layer has width 1",
        )
    depths = depth_partition(results, any_failure)
    if depths and depth_handling(*depths):
        bad, good = (", ".join(map(str, sorted(s))) for s in depths)
        at = f"; at depth {bad}: {e.detail}" if e.detail and e.id != "unclassified" else ""
        return _renamed(
            e,
            "wrong-depth-handling",
            f"every network of depth {bad} fails and every network of depth {good} passes{at}",
            f"fails at depth {bad}, passes at depth {good}",
        )
    return e


def _renamed(e: Explanation, id_: str, detail: str, pattern: str) -> Explanation:
    """``e`` explained by a run-wide pattern instead; a consequence stays one."""
    return replace(
        e, id=id_, detail=detail, confidence=0.85, evidence={**e.evidence, "pattern": pattern}, delta=None, fix=""
    )


def _only_at_other_regularisation(ctx: Context) -> str | None:
    """Every failing case ran at λ = 0 and every case at the spec's λ passed: the code ignores
    the ``reg`` it is given (a λ written into the code happens to match the spec's)."""
    judged = [r for r in ctx.results if r.truth is not None]
    off = [r for r in judged if r.truth is not None and r.truth.spec.l2 != ctx.spec.l2]  # narrowed again for mypy
    if (
        not ctx.spec.l2
        or not off
        or any(r.failures for r in judged if r not in off)
        or not any(r.failures for r in off)
    ):
        return None
    return (
        f"every case at λ = {ctx.spec.l2:g} passes and cases at λ = 0 fail: "
        "the regularisation doesn't follow the reg argument"
    )


_FACTOR_IDS = ("scale-factor", "mean-instead-of-sum", "sum-instead-of-mean")
_FACTOR_WORDS = {2.0: "2", 0.5: "½", -2.0: "−2", -0.5: "−½", 4.0: "4", 0.25: "¼"}


def _count_pattern(seen: list, count, symbol: str, axis: str, averaged: bool) -> tuple[str, str] | None:
    """(id, words) when every case's factor is 1/n or n for its own n = ``count(case)``."""
    near = lambda a, b: abs(a - b) <= 1e-3 * abs(b)  # noqa: E731
    ns = ", ".join(sorted({str(count(c)) for c, _ in seen}))
    if all(near(k * count(c), 1.0) for c, k in seen):
        if averaged:
            return (
                "scale-factor",
                f"1/{symbol} times the right value in every case ({symbol} = {ns}): divided by {symbol} twice",
            )
        return (
            "mean-instead-of-sum",
            f"1/{symbol} times the right value in every case ({symbol} = {ns}): averaged over {axis} instead of summed",
        )
    if all(near(k, count(c)) for c, k in seen):
        if averaged:
            return (
                "sum-instead-of-mean",
                f"{symbol} times the right value in every case ({symbol} = {ns}): summed over {axis} "
                "instead of averaged",
            )
        return "scale-factor", f"{symbol} times the right value in every case ({symbol} = {ns})"
    return None


def _settle_factors(found: list[tuple[Failure, Explanation]], spec: Spec = SEED) -> list[tuple[Failure, Explanation]]:
    """A constant factor is the same in every case; 1/B (or B) follows each case's B. Decide
    run-wide, against the spec's reductions; where both fit (every case has the same B), the
    batch reading wins, as it does per case."""
    seen = [
        (f.case, float(e.evidence["factor"]))
        for f, e in found
        if e.id in _FACTOR_IDS and "factor" in e.evidence and e.is_root and f.case
    ]
    if len(seen) < 2:
        return found
    near = lambda a, b: abs(a - b) <= 1e-3 * abs(b)  # noqa: E731
    settled_as = (
        _count_pattern(seen, lambda c: c.batch, "B", "the batch", spec.batch_reduction == "mean")
        if all(c.batch > 1 for c, _ in seen)
        else None
    )
    if settled_as is None and spec.criterion != "softmax_ce" and all(c.widths[-1] > 1 for c, _ in seen):
        settled_as = _count_pattern(
            seen,
            lambda c: c.widths[-1],
            "n_L",
            "the outputs",
            spec.criterion == "mse" or spec.output_reduction == "mean",
        )
    if settled_as is None and all(near(k, seen[0][1]) for _, k in seen):
        k = seen[0][1]
        settled_as = (
            "scale-factor",
            f"{_FACTOR_WORDS.get(round(k, 12), f'{k:.4g}')} times the right value in every case",
        )
    if settled_as is None:
        return found
    id_, words = settled_as
    settled = []
    for f, e in found:
        if e.id in _FACTOR_IDS:
            detail = f"{e.evidence['scaled']} is {words}" if "scaled" in e.evidence else e.detail
            e = replace(e, id=id_, detail=detail)
        settled.append((f, e))
    return settled


def _consolidate(
    ctx: Context, found: list[tuple[Failure, Explanation]], sightings: dict[FailureKey, int]
) -> list[tuple[Failure, Explanation]]:
    """One bug, many sightings: shared ids across layers, exceptions the bug explains, repeats."""
    found = _settle_factors(found, ctx.spec)
    roots = [(f, e) for f, e in found if e.is_root]
    if any(e.id == "outer-product-wrong-activation" for _, e in roots):
        same = "; the other layers' outer products have the same mistake"
        found = [
            (
                f,
                replace(e, id="outer-product-wrong-activation", detail=e.detail + same)
                if e.id == "layer0-uses-wrong-input"
                else e,
            )
            for f, e in found
        ]
        roots = [(f, e) for f, e in found if e.is_root]
    value_root = next(
        ((g, e) for g, e in roots if g.check in ("gradient-values", "gradient-shapes") and e.id in SHAPE_SENSITIVE),
        None,
    )
    cases = len(distinct(ctx.results))
    out: list[tuple[Failure, Explanation]] = []
    first_seen: dict[str, str] = {}
    for f, e in found:
        if (
            value_root
            and f.check == "call"
            and e.id == "exception"
            and _SHAPE_ERROR.search(describe_failure(f))
            and sightings.get(f.key, cases) < cases
        ):
            g, root = value_root
            e = Explanation(
                root.id,
                e.detail,
                round(root.confidence * 0.9, 3),
                e.evidence,
                consequence_of=failure_label(g),
                shape_error=True,
            )
        elif e.is_root:
            if e.id in first_seen and e.id != "unclassified":
                e = replace(e, same_bug_as=first_seen[e.id])
            first_seen.setdefault(
                e.id, f"{failure_label(f)} (widths {list(f.case.widths)})" if f.case else failure_label(f)
            )
        out.append((f, e))
    return _align_consequences(ctx, out)


def _align_consequences(ctx: Context, found: list[tuple[Failure, Explanation]]) -> list[tuple[Failure, Explanation]]:
    """A consequence carries its root's final id, where that root is itself in the report."""
    final = {(id(ctx.result_of(f)), failure_label(f)): e for f, e in found if e.is_root}
    aligned = []
    for f, e in found:
        root = final.get((id(ctx.result_of(f)), e.consequence_of)) if e.consequence_of else None
        aligned.append((f, replace(e, id=root.id, confidence=root.confidence) if root is not None else e))
    return aligned


# Below this, a label would be a guess: say "unclassified" and show the closest candidate.
MIN_CONFIDENCE = 0.5


def _honest(e: Explanation) -> Explanation:
    """A weak value-level match becomes ``unclassified``, naming what it was closest to."""
    if e.id == "unclassified" or e.confidence >= MIN_CONFIDENCE or not e.is_root:
        return e
    return Explanation(
        "unclassified",
        f"no known bug fits well; the closest, {e.id} ({e.confidence:.0%}): {e.detail}",
        e.confidence,
        {**e.evidence, "closest": e.id},
    )


def _hint(e: Explanation, spec: Spec = SEED) -> str:
    root = e.consequence_of
    if not root:
        return make_hint(e.id, e.detail, e.fix, spec)
    if root == "hidden-state":
        return stale_hint()
    if e.nan_repeat:
        return nan_repeat_hint(e.detail, root)
    if e.shape_error:
        return shape_error_hint(e.detail, root, e.id)
    if e.id == "missing-bias-in-forward":
        return forward_hint()
    return consequence_hint(root, e.id, e.same_layer, spec)


def _json_safe(value: object) -> bool:
    return isinstance(value, (int, float, str, type(None))) or (
        isinstance(value, list) and all(isinstance(v, (int, float, str)) for v in value)
    )


def _diagnosis(e: Explanation, spec: Spec) -> Diagnosis:
    evidence: dict[str, EvidenceValue] = {k: v for k, v in e.evidence.items() if _json_safe(v)}
    return Diagnosis(
        id=e.id,
        confidence=round(max(0.0, min(1.0, e.confidence)), 2),
        hint=_hint(e, spec),
        detail=e.detail,
        consequence_of=e.consequence_of,
        same_bug_as=e.same_bug_as,
        evidence=evidence,
    )


def diagnose(report: Report, spec: Spec = SEED) -> dict[FailureKey, Diagnosis]:
    """The likely bug behind every folded failure of ``report``, by the failure's key.

    ``report`` is only read: :func:`diagnosed` returns the report with these attached.
    """
    ctx = Context(report.run.results, spec)
    found = [(f, _honest(_patterns(ctx, f, _explain(ctx, f)))) for f in report.failures if f.check in CHECK_RULES]
    return {f.key: _diagnosis(e, ctx.spec) for f, e in _consolidate(ctx, found, report.sightings)}


def diagnosed(report: Report, spec: Spec = SEED) -> Report:
    """A copy of ``report`` that carries its :func:`diagnose` findings."""
    return replace(report, diagnoses=diagnose(report, spec))
