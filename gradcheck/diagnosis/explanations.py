"""Candidate explanations: what each known bug would have returned, to test against what came back.

Each generator is a small pure function of a case's facts that returns :class:`Candidate` s:
a diagnosis id, the bug in words, and the tensors that bug would produce at one layer. Nothing
is guessed from the code; :func:`choose` keeps the candidates that reproduce the returned
tensors (relative residual small, or inside the checker's own tolerance) and ranks them.

Two kinds of candidates:

* **δ-level** (:func:`delta_candidates`): a wrong δ⁽ˡ⁾ (σ′ missing or replaced, the recursion
  using the wrong weights, a constant factor). They predict ∇W⁽ˡ⁾ = δ (a⁽ˡ⁻¹⁾)ᵀ and ∇b⁽ˡ⁾ = Σ δ
  together, and every layer below inherits that δ.
* **local** (:func:`weight_candidates`, :func:`bias_candidates`): one returned tensor built wrongly
  from a right δ (transposed, the wrong activation in the outer product, one column of δ, another
  layer's gradient, zeros, a stray factor, a few wrong entries). Nothing below inherits them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from .facts import CaseFacts, Key, label, residual

__all__ = [
    "Candidate",
    "Explanation",
    "choose",
    "from_delta",
    "propagate",
    "delta_candidates",
    "weight_candidates",
    "bias_candidates",
    "tensor_candidates",
    "named_factors",
    "sup",
]

EXACT = 0.95  # inside the checker's own tolerance
BANDS = ((1e-3, 0.85), (1e-2, 0.7), (5e-2, 0.5))  # relative residual -> confidence
FITTED = 0.85  # a candidate with fitted numbers is weaker evidence than a fixed formula
AMBIGUOUS = 0.75  # another bug fits about as well
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def sup(layer: int | str) -> str:
    """``2`` -> ``⁽²⁾``: the equations' layer superscript."""
    return f"⁽{str(layer).translate(_SUP)}⁾"


@dataclass(frozen=True)
class Candidate:
    """One bug's prediction at one layer: ``predicted[param]`` is what it would return."""

    id: str
    detail: str
    predicted: dict[str, Tensor]
    dof: int = 0  # numbers fitted to the returned tensor (0 for a fixed formula)
    delta: Tensor | None = None  # δ-level: the δ⁽ˡ⁾ the implementation used under this bug
    facts: dict = field(default_factory=dict)  # JSON-friendly specifics, e.g. {"factor": 2.0}


@dataclass(frozen=True)
class Explanation:
    """The chosen candidate, with how sure we are and why."""

    id: str
    detail: str
    confidence: float
    evidence: dict
    delta: Tensor | None = None
    fix: str = ""  # what to change, when the id's general advice doesn't fit (see hints.FIXES)


def from_delta(facts: CaseFacts, layer: int, delta: Tensor) -> dict[str, Tensor]:
    """∇W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ and ∇b⁽ˡ⁾ = Σ_batch δ⁽ˡ⁾, the seed's equations for a given δ."""
    return {"W": delta @ facts.inputs[layer].T, "b": delta.sum(dim=1, keepdim=True)}


def propagate(facts: CaseFacts, layer: int, upper: Tensor) -> Tensor:
    """δ⁽ˡ⁾ = ((W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾) ∘ σ′(z⁽ˡ⁾): the right recursion applied to ``upper`` = δ⁽ˡ⁺¹⁾."""
    return (facts.W[layer + 1].T @ upper) * facts.sigma_prime(layer)


# -- scoring ---------------------------------------------------------------------------------


def _score(facts: CaseFacts, layer: int, cand: Candidate, observed: dict[str, Tensor], expected: dict[str, Tensor]) -> tuple[float, float] | None:
    """(confidence, residual) when ``cand`` reproduces what was observed, else None.

    A candidate that the checker could not tell from the expected tensors explains nothing; one
    with as many fitted numbers as observed entries explains everything, so also nothing.
    """
    params = [p for p in cand.predicted if p in observed and cand.predicted[p].shape == observed[p].shape]
    # What the fitted numbers must reproduce: δ⁽ˡ⁾'s entries for a δ-level bug (∇W and ∇b both
    # follow from δ, so a one-unit δ is matched by any factor), else the returned entries.
    entries = cand.delta.numel() if cand.delta is not None else sum(observed[p].numel() for p in params)
    if not params or entries <= cand.dof:
        return None
    if all(facts.agrees((layer, p), cand.predicted[p], expected[p]) for p in params):
        return None  # the checker could not tell this bug from the truth
    if not cand.facts.get("zeros") and all(facts.agrees((layer, p), cand.predicted[p], torch.zeros_like(expected[p])) for p in params):
        return None  # indistinguishable from zeros: the explicit zeros candidate speaks for it
    r = max(residual(observed[p], cand.predicted[p]) for p in params)
    if all(facts.agrees((layer, p), observed[p], cand.predicted[p]) for p in params):
        confidence = EXACT
    else:
        confidence = next((c for limit, c in BANDS if r <= limit), 0.0)
    if confidence == 0.0:
        return None
    return (confidence * (FITTED if cand.dof else 1.0), r)


def choose(facts: CaseFacts, layer: int, candidates: list[Candidate], observed: dict[str, Tensor], expected: dict[str, Tensor]) -> Explanation | None:
    """The candidate that best reproduces ``observed``; ties between different bugs lower the confidence."""
    scored = []
    for order, cand in enumerate(candidates):
        s = _score(facts, layer, cand, observed, expected)
        if s:
            scored.append((-s[0], s[1], order, cand))
    if not scored:
        return None
    scored.sort(key=lambda t: t[:3])
    confidence, r, _, best = -scored[0][0], scored[0][1], scored[0][2], scored[0][3]
    rivals = [c for s, _, _, c in scored[1:] if c.id != best.id and -s >= confidence - 0.05]
    evidence = {"residual": r, **{k: v for k, v in best.facts.items() if k not in ("zeros", "fix")}}
    if rivals:
        confidence *= AMBIGUOUS
        evidence["alternatives"] = sorted({c.id for c in rivals})
    return Explanation(best.id, best.detail, round(confidence, 3), evidence, best.delta, best.facts.get("fix", ""))


# -- constant factors --------------------------------------------------------------------------


def named_factors(facts: CaseFacts) -> list[tuple[float, str, str]]:
    """Constant factors that real bugs produce: (value, diagnosis id, words)."""
    B, n_L = facts.batch, facts.widths[-1]
    factors = [(-1.0, "sign-flip", "−1 (the opposite sign)")]
    # Batch and output counts first: where 1/B happens to equal ½, the run-wide consolidation
    # (every case's factor against its own B) settles which one it is.
    if B > 1:
        factors += [(1 / B, "mean-instead-of-sum", f"1/B = 1/{B} (averaged over the batch)"), (float(B), "scale-factor", f"B = {B}")]
    if n_L > 1:
        factors += [(1 / n_L, "mean-instead-of-sum", f"1/n_L = 1/{n_L} (averaged over the outputs)"), (float(n_L), "scale-factor", f"n_L = {n_L}")]
    if B > 1 and n_L > 1:
        factors.append((1 / (B * n_L), "mean-instead-of-sum", f"1/(B·n_L) = 1/{B * n_L} (averaged over the batch and the outputs)"))
    factors += [(2.0, "scale-factor", "2"), (0.5, "scale-factor", "½"), (-2.0, "scale-factor", "−2"), (-0.5, "scale-factor", "−½"), (4.0, "scale-factor", "4"), (0.25, "scale-factor", "¼")]
    unique: dict[float, tuple[float, str, str]] = {}
    for f in factors:
        unique.setdefault(round(f[0], 12), f)
    return list(unique.values())


def _fitted_factor(observed: dict[str, Tensor], expected: dict[str, Tensor]) -> float | None:
    """The least-squares c with observed ≈ c · expected, over every observed tensor."""
    num = sum(float((observed[p] * expected[p]).sum()) for p in observed if p in expected and observed[p].shape == expected[p].shape)
    den = sum(float((expected[p] * expected[p]).sum()) for p in observed if p in expected and observed[p].shape == expected[p].shape)
    return num / den if den > 0 else None


def scale_candidates(facts: CaseFacts, expected: dict[str, Tensor], observed: dict[str, Tensor], what: str, delta: Tensor | None = None) -> list[Candidate]:
    """``expected`` times a named constant (−1, 2, ½, 1/B, ...) or a fitted one."""
    cands = []
    for value, id_, words in named_factors(facts):
        cands.append(Candidate(id_, f"{what} is {words} times the right value", {p: value * t for p, t in expected.items()}, 0, None if delta is None else value * delta, {"factor": value, "scaled": what}))
    c = _fitted_factor(observed, expected)
    if c is not None and abs(c - 1) > 0.02 and abs(c) > 1e-6:  # a factor of 1.001 is not a constant-factor bug
        id_ = "sign-flip" if abs(c + 1) < 1e-3 else "scale-factor"
        cands.append(Candidate(id_, f"{what} is about {c:.4g} times the right value", {p: c * t for p, t in expected.items()}, 1, None if delta is None else c * delta, {"factor": c, "scaled": what}))
    return cands


# -- δ-level candidates ------------------------------------------------------------------------


def _sigma_variants(facts: CaseFacts, layer: int, rows: int) -> list[tuple[Tensor, str, str]]:
    """Things written in place of σ′(z⁽ˡ⁾) = a⁽ˡ⁾ ∘ (1 − a⁽ˡ⁾): (tensor, id, words)."""
    a, z, s = facts.acts[layer], facts.zs[layer], facts.sigma_prime(layer)
    l = sup(layer)
    variants = [
        (torch.ones_like(a), "missing-activation-derivative", f"δ{l} leaves out the σ′ factor a{l} ∘ (1 − a{l})"),
        (z * (1 - z), "wrong-activation-derivative", f"σ′ is evaluated at the pre-activation, z{l} ∘ (1 − z{l}), instead of a{l} ∘ (1 − a{l})"),
        (1 - a * a, "wrong-activation-derivative", f"σ′ is written 1 − (a{l})², tanh's derivative, instead of a{l} ∘ (1 − a{l})"),
        (s * s, "wrong-activation-derivative", f"σ′ is applied twice in δ{l}"),
        (a, "wrong-activation-derivative", f"σ′ is written a{l} instead of a{l} ∘ (1 − a{l})"),
        (1 - a, "wrong-activation-derivative", f"σ′ is written 1 − a{l} instead of a{l} ∘ (1 − a{l})"),
        ((z > 0).to(z.dtype), "wrong-activation-derivative", f"σ′ is ReLU's derivative, 1 where z{l} > 0, instead of a{l} ∘ (1 − a{l})"),
    ]
    for k in range(facts.depth):
        s_k = facts.sigma_prime(k)
        if k != layer and s_k.shape[0] in (rows, 1):
            variants.append((s_k, "wrong-activation-derivative", f"δ{l} uses σ′ of layer {k}, a{sup(k)} ∘ (1 − a{sup(k)}), instead of layer {layer}'s"))
    x = facts.x
    if x.shape[0] in (rows, 1):
        variants.append((x * (1 - x), "wrong-activation-derivative", f"δ{l} uses x ∘ (1 − x), σ′ computed from the input, instead of a{l} ∘ (1 − a{l})"))
    return variants


def _weight_variants(facts: CaseFacts, layer: int, upper: Tensor) -> list[tuple[Tensor, str, str]]:
    """Products written in place of (W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾ that still have δ⁽ˡ⁾'s shape."""
    want = (facts.widths[layer + 1], upper.shape[1])
    u, l = sup(layer + 1), sup(layer)
    variants = []
    for k, W_k in enumerate(facts.W):
        for transposed in (False, True):
            M = W_k.T if transposed else W_k
            if (k == layer + 1 and transposed) or M.shape[1] != upper.shape[0] or M.shape[0] != want[0]:
                continue  # the right product, or one that does not fit
            if k == layer + 1:
                variants.append((M @ upper, "missing-transpose-in-backprop", f"δ{l} is propagated with W{u} δ{u} instead of (W{u})ᵀ δ{u}"))
            else:
                words = f"(W{sup(k)})ᵀ" if transposed else f"W{sup(k)}"
                variants.append((M @ upper, "wrong-weight-in-backprop", f"δ{l} is propagated with {words} instead of (W{u})ᵀ"))
    return variants


def delta_candidates(facts: CaseFacts, layer: int, upper: Tensor | None, observed: dict[str, Tensor]) -> list[Candidate]:
    """Wrong δ⁽ˡ⁾ that real bugs produce, given the implementation's δ⁽ˡ⁺¹⁾ (``upper``; None at the output)."""
    if upper is None:
        signal = facts.acts[layer] - facts.y  # a⁽ᴸ⁾ − ȳ
    else:
        signal = facts.W[layer + 1].T @ upper
    right = signal * facts.sigma_prime(layer)
    cands = []
    for s, id_, words in _sigma_variants(facts, layer, signal.shape[0]):
        delta = signal * s
        if delta.shape == right.shape:
            cands.append(Candidate(id_, words, from_delta(facts, layer, delta), delta=delta))
    if upper is not None:
        for product, id_, words in _weight_variants(facts, layer, upper):
            delta = product * facts.sigma_prime(layer)
            cands.append(Candidate(id_, words, from_delta(facts, layer, delta), delta=delta))
    cands += scale_candidates(facts, from_delta(facts, layer, right), observed, f"δ{sup(layer)}", right)
    return cands


# -- local candidates --------------------------------------------------------------------------


def _outer_vectors(facts: CaseFacts, layer: int) -> list[tuple[Tensor, str]]:
    """Every vector that could stand where a⁽ˡ⁻¹⁾ belongs in δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ, with its name."""
    top = facts.top
    vectors = [] if layer == 0 else [(facts.x, "x (the network's input)")]
    for k, a_k in enumerate(facts.acts):
        if k == layer - 1:
            continue
        notes = [n for n, yes in (("the layer's own output", k == layer), ("the last activation a[-1]", k == top)) if yes]
        vectors.append((a_k, f"a{sup(k)}" + (f" ({', '.join(notes)})" if notes else "")))
    for k, z_k in enumerate(facts.zs):
        vectors.append((z_k, f"z{sup(k)} (a pre-activation)"))
    vectors.append((torch.sigmoid(facts.x), "σ(x)"))
    return [(v, name) for v, name in vectors if v.shape[0] == facts.widths[layer]]


def weight_candidates(facts: CaseFacts, layer: int, delta: Tensor, got: Tensor) -> list[Candidate]:
    """∇W⁽ˡ⁾ built wrongly from a right δ⁽ˡ⁾: transposed, the wrong activation, and the generic ones."""
    key = (layer, "W")
    expected = delta @ facts.inputs[layer].T
    wrong_input = "layer0-uses-wrong-input" if layer == 0 else "outer-product-wrong-activation"
    right_input = "x" if layer == 0 else f"a{sup(layer - 1)}"
    square = expected.shape[0] == expected.shape[1]
    cands = [
        Candidate(
            "transposed-weight-gradient",
            f"∇W{sup(layer)} is returned transposed" if square else f"∇W{sup(layer)} is computed transposed, a{sup(layer - 1)} (δ{sup(layer)})ᵀ, then reshaped to W{sup(layer)}'s shape",
            {"W": expected.T.reshape(expected.shape)},
        )
    ]
    for vector, name in _outer_vectors(facts, layer):
        cands.append(Candidate(wrong_input, f"∇W{sup(layer)} = δ{sup(layer)} vᵀ is built with v = {name} instead of {right_input}", {"W": delta @ vector.T}, facts={"vector": name}))
    if delta.shape[1] == 1 and float(delta.norm()) > 0:
        v = got.T @ delta / float((delta * delta).sum())
        cands.append(Candidate(wrong_input, f"∇W{sup(layer)} = δ{sup(layer)} vᵀ with the right δ{sup(layer)} but a v that is not {right_input}", {"W": delta @ v.T}, dof=v.numel()))
    return cands + tensor_candidates(facts, key, expected, got)


def bias_candidates(facts: CaseFacts, layer: int, delta: Tensor, got: Tensor) -> list[Candidate]:
    """∇b⁽ˡ⁾ built wrongly from a right δ⁽ˡ⁾: one example's column instead of the sum, and the generic ones."""
    expected = delta.sum(dim=1, keepdim=True)
    cands = [
        Candidate("bias-not-summed-over-batch", f"∇b{sup(layer)} takes column {j} of δ{sup(layer)} (one example) instead of summing over the batch", {"b": delta[:, j : j + 1]}, facts={"column": j})
        for j in range(delta.shape[1] if delta.shape[1] > 1 else 0)
    ]
    if delta.shape[1] > 1 and delta.shape[0] == delta.shape[1]:
        cands.append(Candidate("bias-not-summed-over-batch", f"∇b{sup(layer)} sums δ{sup(layer)} over its units (dim 0) instead of over the batch (dim 1): B = n = {delta.shape[0]} makes the axes look alike", {"b": delta.sum(dim=0).reshape(expected.shape)}))
    return cands + tensor_candidates(facts, (layer, "b"), expected, got)


_FLUSH = "Don't cut σ′ to zero where the sigmoids saturate: a ∘ (1 − a), or σ(z)σ(−z) where a rounds to 1, keeps the tiny true value."


def tensor_candidates(facts: CaseFacts, key: Key, expected: Tensor, got: Tensor) -> list[Candidate]:
    """Wrong in ways that fit any gradient: a constant factor, zeros, another gradient, a few entries."""
    layer, param = key
    name = f"∇{param}{sup(layer)}"
    cands = scale_candidates(facts, {param: expected}, {param: got}, name)
    if facts.case.regime == "saturated":
        cands.append(Candidate("numerical-instability", f"{name} is exactly zero where the sigmoids saturate: the true gradient is tiny, not zero (σ′ flushed to zero)", {param: torch.zeros_like(expected)}, facts={"zeros": True, "fix": _FLUSH}))
    else:
        cands.append(Candidate("missing-layer", f"{name} is left at zero: it is never computed", {param: torch.zeros_like(expected)}, facts={"zeros": True}))
    for other in ((k, p) for k in range(facts.depth) for p in ("W", "b")):
        true = facts.true_grad(other)
        if other != key and true.shape == expected.shape:
            id_ = "layer-order" if other[1] == param else "swapped-weight-and-bias"
            cands.append(Candidate(id_, f"{param}_grads[{layer}] holds the gradient of {label(other)}", {param: true}, facts={"holds": label(other)}))
    off = ~((got - expected).abs() <= facts.allowed(key, expected))
    count = int(off.sum())
    if 0 < count <= expected.numel() // 3:  # isolated: at most a third of the entries, so never 1 of 2
        worst = tuple(int(i) for i in torch.unravel_index((got - expected).abs().argmax(), expected.shape))
        cands.append(Candidate("single-entry-error", f"{count} of {expected.numel()} entries of {name} are wrong (worst at index {worst}), the rest are right", {param: torch.where(off, got, expected)}, dof=count, facts={"wrong_entries": count, "worst_index": list(worst)}))
    return cands
