"""Root cause first: walk one case back from the loss, layer by layer, carrying the implementation's δ.

At each layer the returned ∇W⁽ˡ⁾ and ∇b⁽ˡ⁾ are compared with what the *right* equations give
from the implementation's own δ⁽ˡ⁺¹⁾ (reconstructed on the way down):

* they agree: the layer is right, or, if its gradient still failed, it only **inherits** the
  error from the root above (propagating the wrong δ through correct equations reproduces it);
* one agrees and one doesn't: δ⁽ˡ⁾ is right and the other tensor has its own, local error;
* neither agrees: a wrong δ⁽ˡ⁾ (σ′, the recursion, a constant) is tried first, because it
  explains both tensors with one cause; then local errors; else the layer is *unexplained*, and
  its δ is read off ∇b⁽ˡ⁾ (one example) so the layers below can still be told apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from ..vocabulary import PARAMS
from .explanations import (
    Explanation,
    bias_candidates,
    choose,
    delta_candidates,
    from_delta,
    propagate,
    sup,
    weight_candidates,
)
from .facts import CaseFacts, Key, gradient_key, residual

__all__ = ["WalkStep", "analyse_case", "describe_difference", "nan_findings", "saturation_note"]


@dataclass(frozen=True)
class WalkStep:
    """What the walk concluded about one failing gradient of one case."""

    status: str  # "root" | "consequence" | "unexplained"
    explanation: Explanation | None = None
    root: Key | None = None  # consequence: the root it inherits from, in the same case
    after: Key | None = None  # below an unexplained layer: where the walk lost the implementation's δ
    evidence: dict = field(default_factory=dict)


def describe_difference(got: Tensor, true: Tensor) -> dict:
    """The honest facts when nothing fits: ratio of norms, cosine, and where the errors sit."""
    true_norm, got_norm = float(true.norm()), float(got.norm())
    cosine = float((got * true).sum()) / (true_norm * got_norm) if true_norm and got_norm else 0.0
    wrong = (got - true).abs() > 1e-6 * max(float(true.abs().max()), 1e-300)
    rows = sorted({int(i) for i in wrong.nonzero()[:, 0]}) if got.dim() == 2 else []
    cols = sorted({int(j) for j in wrong.nonzero()[:, 1]}) if got.dim() == 2 else []
    if not bool(wrong.any()):
        pattern = "no entry off by more than 1e-6 relative"
    elif bool(wrong.all()):
        pattern = "every entry off"
    elif got.dim() == 2 and len(rows) == 1:
        pattern = f"only row {rows[0]} off"
    elif got.dim() == 2 and len(cols) == 1:
        pattern = f"only column {cols[0]} off"
    else:
        pattern = f"{int(wrong.sum())} of {got.numel()} entries off"
    return {
        "norm_ratio": got_norm / true_norm if true_norm else None,
        "cosine": round(cosine, 6),
        "residual": residual(got, true),
        "pattern": pattern,
    }


def _local(
    facts: CaseFacts, layer: int, param: str, delta: Tensor, got: Tensor, expected: Tensor
) -> Explanation | None:
    cands = (weight_candidates if param == "W" else bias_candidates)(facts, layer, delta, got)
    return choose(facts, layer, cands, {param: got}, {param: expected})


def _infer_delta(facts: CaseFacts, layer: int, observed: dict[str, Tensor]) -> Tensor | None:
    """The δ⁽ˡ⁾ the implementation used, read off ∇b⁽ˡ⁾ = δ⁽ˡ⁾ (one example), if ∇W⁽ˡ⁾ agrees."""
    if facts.batch != 1 or "b" not in observed:
        return None
    delta = observed["b"]
    if "W" in observed and residual(observed["W"], delta @ facts.inputs[layer].T) > 1e-6:
        return None
    return delta


def _own_error(
    facts: CaseFacts, layer: int, param: str, delta: Tensor, got: Tensor, expected: Tensor, lost_at: Key | None
) -> WalkStep:
    """A tensor wrong on its own, from a right δ⁽ˡ⁾: its local explanation, or the evidence."""
    found = _local(facts, layer, param, delta, got, expected)
    if found:
        return WalkStep("root", found, after=lost_at)
    return WalkStep("unexplained", after=lost_at, evidence=describe_difference(got, expected))


def analyse_case(facts: CaseFacts) -> dict[Key, WalkStep]:
    """A :class:`WalkStep` for every gradient-values failure of the case, root cause first."""
    findings: dict[Key, WalkStep] = {}
    upper: Tensor | None = None  # the implementation's δ⁽ˡ⁺¹⁾; None at the output, or when lost
    root_above: Key | None = None  # the root whose δ error the layers below inherit
    lost_at: Key | None = None  # where the walk lost track of the implementation's δ
    for layer in reversed(range(facts.depth)):
        delta = facts.deltas[layer] if upper is None else propagate(facts, layer, upper)
        expected = from_delta(facts, layer, delta)
        observed: dict[str, Tensor] = {p: t for p in PARAMS if (t := facts.returned((layer, p))) is not None}
        failing = [p for p in PARAMS if (layer, p) in facts.failing]
        consistent = {p for p, t in observed.items() if facts.agrees((layer, p), t, expected[p])}

        if consistent:  # δ⁽ˡ⁾ is what the right equations give from above
            for p in failing:
                if p not in consistent:
                    findings[(layer, p)] = _own_error(facts, layer, p, delta, observed[p], expected[p], lost_at)
                elif root_above:
                    findings[(layer, p)] = WalkStep("consequence", root=root_above)
                else:  # cannot happen: agreeing with the truth is passing
                    findings[(layer, p)] = WalkStep(
                        "unexplained", evidence=describe_difference(observed[p], expected[p])
                    )
            upper, lost_at = delta, None
            continue
        if not failing:  # right although the δ from above was not: back on track
            upper = facts.deltas[layer] if observed else delta
            continue

        # Neither tensor agrees: one wrong δ⁽ˡ⁾ for both, else an error in each.
        above = None if layer == facts.top else (upper if upper is not None else facts.deltas[layer + 1])
        whole = choose(facts, layer, delta_candidates(facts, layer, above, observed), observed, expected)
        local = {p: _local(facts, layer, p, delta, observed[p], expected[p]) for p in observed}
        if whole and not (
            all(local.values()) and whole.confidence < min(e.confidence for e in local.values() if e is not None)
        ):
            root = (layer, failing[0])
            findings[root] = WalkStep("root", whole, after=lost_at)
            findings.update({(layer, p): WalkStep("consequence", whole, root=root) for p in failing[1:]})
            upper, root_above = whole.delta, root
            continue
        for p in failing:
            findings[(layer, p)] = _own_error(facts, layer, p, delta, observed[p], expected[p], lost_at)
        if all(local.get(p) for p in failing):
            upper = delta
            continue
        inferred = _infer_delta(facts, layer, observed)
        if inferred is not None:  # unexplained, but its δ is known: the layers below can inherit it
            upper, root_above = inferred, (layer, failing[0])
        else:
            upper, root_above, lost_at = None, None, (layer, failing[0])
    return findings


def nan_findings(facts: CaseFacts) -> dict[Key, WalkStep]:
    """Non-finite gradients: the highest one is the root; NaN flows down δ, so the rest inherit it."""
    keys = sorted(
        (gradient_key(f) for f in facts.result.failures if f.check == "finite"),
        key=lambda k: (-k[0], PARAMS.index(k[1])),
    )
    if not keys:
        return {}
    root = keys[0]
    found = {root: WalkStep("root")}
    found.update({k: WalkStep("consequence", root=root) for k in keys[1:]})
    return found


def saturation_note(facts: CaseFacts, key: Key) -> str:
    """Where the NaN starts: the largest |z⁽ˡ⁾| in the rows that went non-finite (exp(±z) overflows)."""
    got = facts.result.returned.get(key)
    if got is None:
        return ""
    z = facts.zs[key[0]]
    rows = sorted({int(i) for i in (~torch.isfinite(got)).nonzero()[:, 0]})
    if not rows:
        return ""
    worst = max((z[i] for i in rows), key=lambda r: float(r.abs().max()))
    value = float(worst.flatten()[int(worst.abs().argmax())])
    return f"z{sup(key[0])} = {value:.4g} in the rows that went non-finite"
