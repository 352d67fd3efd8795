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
from typing import Any

import torch
from torch import Tensor

from ..compare import entry_index
from ..spec import Activation
from .facts import CaseFacts, Key, label, residual

__all__ = [
    "Candidate",
    "Explanation",
    "bias_candidates",
    "choose",
    "data_grads",
    "delta_candidates",
    "from_delta",
    "named_factors",
    "output_signal",
    "penalty_grad",
    "prime_name",
    "propagate",
    "sup",
    "tensor_candidates",
    "weight_candidates",
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
    evidence: dict[str, Any]  # the numbers and patterns behind it, e.g. {"factor": 2.0}
    delta: Tensor | None = None
    fix: str = ""  # what to change, when the id's general advice doesn't fit (see hints.FIXES)
    consequence_of: str | None = None  # the label of the root it only inherits from (W[2], loss, hidden-state)
    same_layer: bool = False  # a consequence in the root's own layer
    same_bug_as: str | None = None  # where the same bug was first reported
    nan_repeat: bool = False  # a hidden-state failure that is only NaN met again
    shape_error: bool = False  # a call's shape error that the root's bug explains

    @property
    def is_root(self) -> bool:
        """Whether this is a bug of its own, not an inherited error."""
        return self.consequence_of is None


def penalty_grad(facts: CaseFacts, layer: int) -> dict[str, Tensor]:
    """The L2 penalty's share of layer l's gradients, 2c·W⁽ˡ⁾ (and 2c·b⁽ˡ⁾ when the spec
    regularises biases): zeros without L2, so the seed's equations are unchanged."""
    c = facts.spec.penalty_factor(facts.batch)
    W, b = facts.W[layer], facts.b[layer]
    return {"W": 2 * c * W, "b": 2 * c * b if facts.spec.l2_biases else torch.zeros_like(b)}


def data_grads(facts: CaseFacts, layer: int, delta: Tensor) -> dict[str, Tensor]:
    """∇W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ and ∇b⁽ˡ⁾ = Σ_batch δ⁽ˡ⁾: the data loss's share, for a given δ."""
    return {"W": delta @ facts.inputs[layer].T, "b": delta.sum(dim=1, keepdim=True)}


def from_delta(facts: CaseFacts, layer: int, delta: Tensor) -> dict[str, Tensor]:
    """Layer l's gradients for a given δ⁽ˡ⁾: :func:`data_grads` plus the spec's L2 term."""
    data, reg = data_grads(facts, layer, delta), penalty_grad(facts, layer)
    return {p: data[p] + reg[p] for p in data}


def propagate(facts: CaseFacts, layer: int, upper: Tensor) -> Tensor:
    """δ⁽ˡ⁾ = ((W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾) ∘ σ′(z⁽ˡ⁾): the right recursion applied to ``upper`` = δ⁽ˡ⁺¹⁾."""
    return (facts.W[layer + 1].T @ upper) * facts.sigma_prime(layer)


# -- scoring ---------------------------------------------------------------------------------


def _score(
    facts: CaseFacts, layer: int, cand: Candidate, observed: dict[str, Tensor], expected: dict[str, Tensor]
) -> tuple[float, float] | None:
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
    if not cand.facts.get("zeros") and all(
        facts.agrees((layer, p), cand.predicted[p], torch.zeros_like(expected[p])) for p in params
    ):
        return None  # indistinguishable from zeros: the explicit zeros candidate speaks for it
    r = max(residual(observed[p], cand.predicted[p]) for p in params)
    if all(facts.agrees((layer, p), observed[p], cand.predicted[p]) for p in params):
        confidence = EXACT
    else:
        confidence = next((c for limit, c in BANDS if r <= limit), 0.0)
    if confidence == 0.0:
        return None
    return (confidence * (FITTED if cand.dof else 1.0), r)


def choose(
    facts: CaseFacts, layer: int, candidates: list[Candidate], observed: dict[str, Tensor], expected: dict[str, Tensor]
) -> Explanation | None:
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


def _count_factors(n: int, symbol: str, axis: str, averaged: bool) -> list[tuple[float, str, str]]:
    """The factors a sum/mean mix-up over ``axis`` (n entries) produces, against the spec's reduction."""
    if n <= 1:
        return []
    if averaged:  # the spec divides by n: summing gives n times, dividing twice gives 1/n
        return [
            (float(n), "sum-instead-of-mean", f"{symbol} = {n} (summed over {axis} instead of averaged)"),
            (1 / n, "scale-factor", f"1/{symbol} = 1/{n} (divided by {symbol} twice)"),
        ]
    return [
        (1 / n, "mean-instead-of-sum", f"1/{symbol} = 1/{n} (averaged over {axis} instead of summed)"),
        (float(n), "scale-factor", f"{symbol} = {n}"),
    ]


def named_factors(facts: CaseFacts) -> list[tuple[float, str, str]]:
    """Constant factors that real bugs produce, judged against the spec's reductions: (value, id, words)."""
    spec, B, n_L = facts.spec, facts.batch, facts.widths[-1]
    batch_mean = spec.batch_reduction == "mean"
    outputs_mean = spec.criterion == "mse" or spec.output_reduction == "mean"
    factors = [(-1.0, "sign-flip", "−1 (the opposite sign)")]
    # Batch and output counts first: where 1/B happens to equal ½, the run-wide consolidation
    # (every case's factor against its own B) settles which one it is.
    factors += _count_factors(B, "B", "the batch", batch_mean)
    if spec.criterion != "softmax_ce":  # softmax-CE has one loss per example, nothing to average over outputs
        factors += _count_factors(n_L, "n_L", "the outputs", outputs_mean)
        if B > 1 and n_L > 1 and batch_mean == outputs_mean:
            both = _count_factors(B * n_L, "B·n_L", "the batch and the outputs", batch_mean)[0]
            factors.append(both)
    factors += [
        (2.0, "scale-factor", "2"),
        (0.5, "scale-factor", "½"),
        (-2.0, "scale-factor", "−2"),
        (-0.5, "scale-factor", "−½"),
        (4.0, "scale-factor", "4"),
        (0.25, "scale-factor", "¼"),
    ]
    unique: dict[float, tuple[float, str, str]] = {}
    for f in factors:
        unique.setdefault(round(f[0], 12), f)
    return list(unique.values())


def _fitted_factor(observed: dict[str, Tensor], expected: dict[str, Tensor]) -> float | None:
    """The least-squares c with observed ≈ c · expected, over every observed tensor."""
    num = sum(
        float((observed[p] * expected[p]).sum())
        for p in observed
        if p in expected and observed[p].shape == expected[p].shape
    )
    den = sum(
        float((expected[p] * expected[p]).sum())
        for p in observed
        if p in expected and observed[p].shape == expected[p].shape
    )
    return num / den if den > 0 else None


def scale_candidates(
    facts: CaseFacts,
    expected: dict[str, Tensor],
    observed: dict[str, Tensor],
    what: str,
    delta: Tensor | None = None,
    offset: dict[str, Tensor] | None = None,
) -> list[Candidate]:
    """``expected`` times a named constant (−1, 2, ½, 1/B, ...) or a fitted one, plus ``offset``
    (the L2 term, which a δ-level factor leaves alone)."""
    offset = offset or {p: torch.zeros_like(t) for p, t in expected.items()}
    cands = []
    for value, id_, words in named_factors(facts):
        cands.append(
            Candidate(
                id_,
                f"{what} is {words} times the right value",
                {p: value * t + offset[p] for p, t in expected.items()},
                0,
                None if delta is None else value * delta,
                {"factor": value, "scaled": what},
            )
        )
    c = _fitted_factor({p: t - offset[p] for p, t in observed.items() if p in offset}, expected)
    if c is not None and abs(c - 1) > 0.02 and abs(c) > 1e-6:  # a factor of 1.001 is not a constant-factor bug
        id_ = "sign-flip" if abs(c + 1) < 1e-3 else "scale-factor"
        cands.append(
            Candidate(
                id_,
                f"{what} is about {c:.4g} times the right value",
                {p: c * t + offset[p] for p, t in expected.items()},
                1,
                None if delta is None else c * delta,
                {"factor": c, "scaled": what},
            )
        )
    return cands


# -- δ-level candidates ------------------------------------------------------------------------


# An activation's derivative written from its output a (how backprop code usually writes it):
# (function of a, formula with "{v}" for the variable). ReLU's and leaky ReLU's read the sign.
A_FORMS = {
    "sigmoid": (lambda a: a * (1 - a), "{v} ∘ (1 − {v})"),
    "tanh": (lambda a: 1 - a * a, "1 − ({v})²"),
    "relu": (lambda a: (a > 0).to(a.dtype), "1[{v} > 0]"),
    "leaky_relu": (None, "1 where {v} > 0, else the slope"),
    "identity": (torch.ones_like, "1"),
}


def prime_name(act: Activation) -> str:
    """How the equations name an activation's derivative: σ′ for the sigmoid, tanh′, relu′, ..."""
    return "σ′" if act.name == "sigmoid" else f"{act.name}′"


def _a_form(act: Activation, v: Tensor) -> Tensor:
    """The activation's derivative formula in terms of its output, applied to ``v``."""
    fn = A_FORMS[act.name][0]
    return act.derivative(v) if fn is None else fn(v)


def _sigma_variants(facts: CaseFacts, layer: int, rows: int) -> list[tuple[Tensor, str, str]]:
    """Things written in place of layer l's activation derivative (σ′(z⁽ˡ⁾) = a⁽ˡ⁾ ∘ (1 − a⁽ˡ⁾)
    for the seed), built from the true z, a for the spec's activation: (tensor, id, words)."""
    act = facts.spec.activation_at(layer, facts.depth)
    a, z, s, x = facts.acts[layer], facts.zs[layer], facts.sigma_prime(layer), facts.x
    l, P = sup(layer), prime_name(act)
    form = lambda v: A_FORMS[act.name][1].format(v=v)  # noqa: E731
    right = form(f"a{l}")
    variants = [
        (torch.ones_like(a), "missing-activation-derivative", f"δ{l} leaves out the {P} factor {right}"),
        (
            _a_form(act, z),
            "wrong-activation-derivative",
            f"{P} is evaluated at the pre-activation, {form(f'z{l}')}, instead of {right}",
        ),
    ]
    for other in ("tanh", "sigmoid"):
        if other != act.name:
            variants.append(
                (
                    _a_form(Activation.parse(other), a),
                    "wrong-activation-derivative",
                    f"{P} is written {A_FORMS[other][1].format(v=f'a{l}')}, {other}'s derivative, instead of {right}",
                )
            )
    variants.append((s * s, "wrong-activation-derivative", f"{P} is applied twice in δ{l}"))
    if act.name == "sigmoid":
        variants += [
            (a, "wrong-activation-derivative", f"σ′ is written a{l} instead of {right}"),
            (1 - a, "wrong-activation-derivative", f"σ′ is written 1 − a{l} instead of {right}"),
        ]
    if not act.kinked:
        variants.append(
            (
                (z > 0).to(z.dtype),
                "wrong-activation-derivative",
                f"{P} is ReLU's derivative, 1 where z{l} > 0, instead of {right}",
            )
        )
    variants.append(
        (
            act.derivative(a),
            "derivative-of-output",
            f"{P} is taken of the layer's output, {P}(a{l}), instead of its input: {P}(z{l}) = {right}",
        )
    )
    for k in range(facts.depth):
        if k != layer and facts.zs[k].shape[0] in (rows, 1):
            if act.kinked:  # the mask read off another layer's pre-activation
                variants.append(
                    (
                        act.derivative(facts.zs[k]),
                        "relu-mask-wrong-layer",
                        f"the {act} mask of δ{l} is taken from z{sup(k)} (layer {k}) instead of z{l}: "
                        f"{P}(z{sup(k)}) in place of {P}(z{l})",
                    )
                )
            else:
                variants.append(
                    (
                        facts.sigma_prime(k),
                        "wrong-activation-derivative",
                        f"δ{l} uses {prime_name(facts.spec.activation_at(k, facts.depth))} of layer {k}, "
                        f"{A_FORMS[facts.spec.activation_at(k, facts.depth).name][1].format(v=f'a{sup(k)}')}, "
                        f"instead of layer {layer}'s",
                    )
                )
    if x.shape[0] in (rows, 1):
        if act.kinked:
            variants.append(
                (
                    act.derivative(x),
                    "relu-mask-wrong-layer",
                    f"the {act} mask of δ{l} is taken from the input x instead of z{l}",
                )
            )
        else:
            variants.append(
                (
                    _a_form(act, x),
                    "wrong-activation-derivative",
                    f"δ{l} uses {form('x')}, {P} computed from the input, instead of {right}",
                )
            )
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
                variants.append(
                    (
                        M @ upper,
                        "missing-transpose-in-backprop",
                        f"δ{l} is propagated with W{u} δ{u} instead of (W{u})ᵀ δ{u}",
                    )
                )
            else:
                words = f"(W{sup(k)})ᵀ" if transposed else f"W{sup(k)}"
                variants.append(
                    (M @ upper, "wrong-weight-in-backprop", f"δ{l} is propagated with {words} instead of (W{u})ᵀ")
                )
    return variants


def delta_candidates(
    facts: CaseFacts, layer: int, upper: Tensor | None, observed: dict[str, Tensor]
) -> list[Candidate]:
    """Wrong δ⁽ˡ⁾ that real bugs produce, given the implementation's δ⁽ˡ⁺¹⁾ (``upper``; None at the output)."""
    signal = output_signal(facts) if upper is None else facts.W[layer + 1].T @ upper
    # At the output, the oracle's δ⁽ᴸ⁾: bce's ∂L/∂a overflows where the sigmoid saturates.
    right = facts.deltas[layer] if upper is None else signal * facts.sigma_prime(layer)
    cands = [] if upper is not None else _output_candidates(facts, layer)
    for s, id_, words in _sigma_variants(facts, layer, signal.shape[0]):
        delta = signal * s
        if delta.shape == right.shape:
            cands.append(Candidate(id_, words, from_delta(facts, layer, delta), delta=delta))
    if upper is not None:
        for product, id_, words in _weight_variants(facts, layer, upper):
            delta = product * facts.sigma_prime(layer)
            cands.append(Candidate(id_, words, from_delta(facts, layer, delta), delta=delta))
    cands += scale_candidates(
        facts, data_grads(facts, layer, right), observed, f"δ{sup(layer)}", right, offset=penalty_grad(facts, layer)
    )
    return cands


def output_signal(facts: CaseFacts) -> Tensor:
    """∂(data loss)/∂a⁽ᴸ⁾ under the spec (a⁽ᴸ⁾ − ȳ for the seed): δ⁽ᴸ⁾ is this times the output's derivative."""
    if "signal" not in facts.memo:
        spec, a = facts.spec, facts.acts[-1].clone().requires_grad_(True)
        with torch.enable_grad():
            (facts.memo["signal"],) = torch.autograd.grad(spec.reduce_batch(spec.column_losses(a, facts.y)), a)
    return facts.memo["signal"]


def _output_candidates(facts: CaseFacts, layer: int) -> list[Candidate]:
    """Output-layer bugs specific to the loss: softmax + cross-entropy without the softmax."""
    if facts.spec.criterion != "softmax_ce" or layer != facts.top:
        return []
    z, y, L = facts.zs[layer], facts.y, sup(layer)
    mean = facts.spec.batch_reduction == "mean"
    cands = []
    for k, words in ((1 / facts.batch if mean else 1.0, "/B" if mean else ""), (1.0, "")):
        delta = (z - y) * k
        what = (
            f"δ{L} is (z{L} − ȳ){words}, the scores minus the targets: the softmax is missing ((softmax(z{L}) "
            f"− ȳ){'/B' if mean else ''} is right)"
        )
        cands.append(Candidate("softmax-gradient-missing-softmax", what, from_delta(facts, layer, delta), delta=delta))
    return cands if mean and facts.batch > 1 else cands[:1]


# -- local candidates --------------------------------------------------------------------------


def _outer_vectors(facts: CaseFacts, layer: int) -> list[tuple[Tensor, str]]:
    """Every vector that could stand where a⁽ˡ⁻¹⁾ belongs in δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ, with its name."""
    top = facts.top
    vectors = [] if layer == 0 else [(facts.x, "x (the network's input)")]
    for k, a_k in enumerate(facts.acts):
        if k == layer - 1:
            continue
        notes = [
            n for n, yes in (("the layer's own output", k == layer), ("the last activation a[-1]", k == top)) if yes
        ]
        vectors.append((a_k, f"a{sup(k)}" + (f" ({', '.join(notes)})" if notes else "")))
    for k, z_k in enumerate(facts.zs):
        vectors.append((z_k, f"z{sup(k)} (a pre-activation)"))
    vectors.append((torch.sigmoid(facts.x), "σ(x)"))
    return [(v, name) for v, name in vectors if v.shape[0] == facts.widths[layer]]


def weight_candidates(facts: CaseFacts, layer: int, delta: Tensor, got: Tensor) -> list[Candidate]:
    """∇W⁽ˡ⁾ built wrongly from a right δ⁽ˡ⁾: transposed, the wrong activation, and the generic ones."""
    key = (layer, "W")
    reg = penalty_grad(facts, layer)["W"]
    expected = from_delta(facts, layer, delta)["W"]
    wrong_input = "layer0-uses-wrong-input" if layer == 0 else "outer-product-wrong-activation"
    right_input = "x" if layer == 0 else f"a{sup(layer - 1)}"
    square = expected.shape[0] == expected.shape[1]
    cands = [
        Candidate(
            "transposed-weight-gradient",
            f"∇W{sup(layer)} is returned transposed"
            if square
            else f"∇W{sup(layer)} is computed transposed, a{sup(layer - 1)} (δ{sup(layer)})ᵀ, then reshaped to "
            f"W{sup(layer)}'s shape",
            {"W": expected.T.reshape(expected.shape)},
        )
    ]
    for vector, name in _outer_vectors(facts, layer):
        cands.append(
            Candidate(
                wrong_input,
                f"∇W{sup(layer)} = δ{sup(layer)} vᵀ is built with v = {name} instead of {right_input}",
                {"W": delta @ vector.T + reg},
                facts={"vector": name},
            )
        )
    if delta.shape[1] == 1 and float(delta.norm()) > 0:
        v = (got - reg).T @ delta / float((delta * delta).sum())
        cands.append(
            Candidate(
                wrong_input,
                f"∇W{sup(layer)} = δ{sup(layer)} vᵀ with the right δ{sup(layer)} but a v that is not {right_input}",
                {"W": delta @ v.T + reg},
                dof=v.numel(),
            )
        )
    return (
        cands
        + _output_candidates(facts, layer)
        + _penalty_candidates(facts, layer, "W", expected)
        + tensor_candidates(facts, key, expected, got)
    )


def _penalty_candidates(facts: CaseFacts, layer: int, param: str, expected: Tensor) -> list[Candidate]:
    """The L2 term of ∇W⁽ˡ⁾ (∇b⁽ˡ⁾) left out, off by a factor, or added where the spec has none."""
    c = facts.spec.penalty_factor(facts.batch)
    if c == 0:
        return []  # without L2 in the spec, no coefficient to build a term from
    theta = (facts.W if param == "W" else facts.b)[layer]
    name, term = f"∇{param}{sup(layer)}", f"2c·{param}{sup(layer)}"
    if param == "b" and not facts.spec.l2_biases:
        return [
            Candidate(
                "regularization-on-biases",
                f"{name} contains the L2 term {k} although the spec leaves biases out of the penalty",
                {"b": expected + m * 2 * c * theta},
                facts={"l2_factor": m},
            )
            for m, k in ((1.0, term), (0.5, f"c·b{sup(layer)}"))
        ]
    # "zeros" allowed: where the data gradient vanishes (a one-class softmax, dead ReLUs), the
    # L2 term is all there is, and leaving it out returns zeros.
    cands = [
        Candidate(
            "regularization-missing",
            f"{name} leaves out the L2 term {term}",
            {param: expected - 2 * c * theta},
            facts={"l2_factor": 0.0, "zeros": True},
        )
    ]
    factors = [(2.0, "twice"), (0.5, "half")] + (
        [(float(facts.batch), f"B = {facts.batch} times"), (1 / facts.batch, f"1/B = 1/{facts.batch} times")]
        if facts.batch > 1
        else []
    )
    for m, words in factors:
        cands.append(
            Candidate(
                "regularization-wrong-factor",
                f"the L2 term of {name} is {words} {term}",
                {param: expected + (m - 1) * 2 * c * theta},
                facts={"l2_factor": m},
            )
        )
    return cands


def bias_candidates(facts: CaseFacts, layer: int, delta: Tensor, got: Tensor) -> list[Candidate]:
    """∇b⁽ˡ⁾ built wrongly from a right δ⁽ˡ⁾: one example's column instead of the sum, and the generic ones."""
    reg = penalty_grad(facts, layer)["b"]
    expected = from_delta(facts, layer, delta)["b"]
    cands = [
        Candidate(
            "bias-not-summed-over-batch",
            f"∇b{sup(layer)} takes column {j} of δ{sup(layer)} (one example) instead of summing over the batch",
            {"b": delta[:, j : j + 1] + reg},
            facts={"column": j},
        )
        for j in range(delta.shape[1] if delta.shape[1] > 1 else 0)
    ]
    if delta.shape[1] > 1 and delta.shape[0] == delta.shape[1]:
        cands.append(
            Candidate(
                "bias-not-summed-over-batch",
                f"∇b{sup(layer)} sums δ{sup(layer)} over its units (dim 0) instead of over the batch (dim "
                f"1): B = n = {delta.shape[0]} makes the axes look alike",
                {"b": delta.sum(dim=0).reshape(expected.shape) + reg},
            )
        )
    return (
        cands
        + _output_candidates(facts, layer)
        + _penalty_candidates(facts, layer, "b", expected)
        + tensor_candidates(facts, (layer, "b"), expected, got)
    )


_FLUSH = (
    "Don't cut σ′ to zero where the sigmoids saturate: a ∘ (1 − a), or σ(z)σ(−z) where a rounds to 1, keeps "
    "the tiny true value."
)


def tensor_candidates(facts: CaseFacts, key: Key, expected: Tensor, got: Tensor) -> list[Candidate]:
    """Wrong in ways that fit any gradient: a constant factor, zeros, another gradient, a few entries."""
    layer, param = key
    name = f"∇{param}{sup(layer)}"
    cands = scale_candidates(facts, {param: expected}, {param: got}, name)
    if facts.case.regime == "saturated":
        cands.append(
            Candidate(
                "numerical-instability",
                f"{name} is exactly zero where the sigmoids saturate: the true gradient is tiny, not zero "
                "(σ′ flushed to zero)",
                {param: torch.zeros_like(expected)},
                facts={"zeros": True, "fix": _FLUSH},
            )
        )
    else:
        cands.append(
            Candidate(
                "missing-layer",
                f"{name} is left at zero: it is never computed",
                {param: torch.zeros_like(expected)},
                facts={"zeros": True},
            )
        )
    for other in ((k, p) for k in range(facts.depth) for p in ("W", "b")):
        true = facts.true_grad(other)
        if other != key and true.shape == expected.shape:
            id_ = "layer-order" if other[1] == param else "swapped-weight-and-bias"
            cands.append(
                Candidate(
                    id_,
                    f"{param}_grads[{layer}] holds the gradient of {label(other)}",
                    {param: true},
                    facts={"holds": label(other)},
                )
            )
    off = ~((got - expected).abs() <= facts.allowed(key, expected))
    count = int(off.sum())
    if 0 < count <= expected.numel() // 3:  # isolated: at most a third of the entries, so never 1 of 2
        worst = entry_index(int((got - expected).abs().argmax()), expected.shape)
        cands.append(
            Candidate(
                "single-entry-error",
                f"{count} of {expected.numel()} entries of {name} are wrong (worst at index {worst}), the "
                "rest are right",
                {param: torch.where(off, got, expected)},
                dof=count,
                facts={"wrong_entries": count, "worst_index": list(worst)},
            )
        )
    return cands
