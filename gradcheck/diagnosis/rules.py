"""One rule per check: from a folded failure (and every case of the run) to an :class:`Explanation`.

Structural checks (an exception, a dtype, a mutated input) prove their bug by themselves; value
checks ask the per-case walk (:mod:`.walk`) and let every case that showed the same problem
vote; shape checks ask :mod:`.shapes`. A consequence names its root in ``consequence_of``.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

import torch

from ..cases import CaseSpec
from ..checker import CaseResult
from ..records import Failure, describe_failure
from ..spec import Spec
from ..vocabulary import CoreCheck
from .explanations import Explanation
from .facts import CaseFacts, Key, failure_label, gradient_key, label
from .forward import gradients_are_bias_free, loss_is_bias_free
from .hints import loss_words
from .patterns import depth_partition, echoes_earlier_call, owner_map, same_key, unit_width_partition
from .shapes import explain_shape
from .walk import WalkStep, analyse_case, describe_difference, nan_findings, saturation_note

__all__ = ["CHECK_RULES", "Context", "Rule"]

Rule = Callable[["Context", Failure], Explanation]

_UNPACK = re.compile(r"(not enough|too many) values to unpack")


class Context:
    """Every case of one report, with its facts and walk built once, on demand."""

    def __init__(self, results: list[CaseResult], spec: Spec):
        self.results = results
        self.spec = spec
        self.owner = owner_map(results)
        self.stateful = any(
            f.check == "hidden-state" and not _nan_repeat(results, f) for r in results for f in r.failures
        )
        self.echo = None if self.stateful else echoes_earlier_call(results)  # state the repeat check missed
        self._facts: dict[int, CaseFacts] = {}
        self._walks: dict[int, dict[Key, WalkStep]] = {}

    def facts(self, result: CaseResult) -> CaseFacts:
        if id(result) not in self._facts:
            spec = (
                result.truth.spec if result.truth is not None else self.spec
            )  # a case may be judged under its own spec (λ = 0)
            self._facts[id(result)] = CaseFacts(result, spec)
        return self._facts[id(result)]

    def walk(self, result: CaseResult) -> dict[Key, WalkStep]:
        if id(result) not in self._walks:
            self._walks[id(result)] = analyse_case(self.facts(result))
        return self._walks[id(result)]

    def result_of(self, failure: Failure) -> CaseResult:
        return self.owner[id(failure)]


def _vote(own: Explanation | None, others: list[tuple[Explanation, float]]) -> Explanation | None:
    """The explanation the cases agree on; the failure's own case breaks ties and gives the words.

    ``others`` are (explanation, weight) from the other cases that showed the same failure; a
    case where the layer plays another role (another distance from the output) weighs less. An
    explanation found only elsewhere, when the failure's own case has none, is less sure.
    """
    pool = ([(own, 1.0)] if own else []) + others
    if not pool:
        return None
    weight: dict[str, float] = defaultdict(float)
    for e, w in pool:
        weight[e.id] += e.confidence * w
    best = max(weight, key=lambda i: (weight[i], own is not None and own.id == i))
    members = [e for e, _ in pool if e.id == best]
    pick = own if own is not None and own.id == best else max(members, key=lambda e: e.confidence)
    share = weight[best] / sum(weight.values())
    mean = sum(e.confidence for e in members) / len(members)
    confidence = min(0.99, mean * (0.5 + 0.5 * share) + 0.01 * (len(members) - 1)) * (1.0 if own is not None else 0.75)
    return replace(
        pick,
        confidence=round(confidence, 3),
        evidence={**pick.evidence, "cases_agreeing": f"{len(members)} of {len(pool)}"},
    )


def _role_weight(own: CaseSpec, other: CaseSpec, layer: int) -> float:
    """1 when the layer is the output layer in both networks, or hidden in both; else ½.

    The output layer's δ is computed apart from the hidden layers', so layer 0 of a one-layer
    network says less about layer 0 of a deep one.
    """
    return 1.0 if (layer == own.depth - 1) == (layer == other.depth - 1) else 0.5


def _consequence(root: Key, root_ex: Explanation | None, layer: int | None) -> Explanation:
    """A failure that only inherits ``root``'s error: the root's id, marked as a consequence."""
    id_ = root_ex.id if root_ex else "unclassified"
    confidence = root_ex.confidence if root_ex else 0.5
    return Explanation(id_, "", confidence, {}, consequence_of=label(root), same_layer=root[0] == layer)


# -- value checks ----------------------------------------------------------------------------


def gradient_values(ctx: Context, f: Failure) -> Explanation:
    result = ctx.result_of(f)
    key = gradient_key(f)
    if gradients_are_bias_free(ctx.facts(result)):
        return Explanation("missing-bias-in-forward", "", 0.9, {}, consequence_of="loss")
    finding = ctx.walk(result).get(key)
    if finding is None:
        return Explanation("unclassified", "the walk found nothing to say about this gradient", 0.3, {})
    if finding.status == "consequence" and finding.root is not None:
        root = ctx.walk(result).get(finding.root)
        return _consequence(finding.root, root.explanation if root else finding.explanation, f.layer)
    own = finding.explanation if finding.status == "root" else None
    if own is not None and own.id == "missing-layer" and not _zero_in_every_case(ctx, f):
        own = None  # zero here by chance (all units off), not a gradient that is never computed
    others = []
    for r, _ in same_key(ctx.results, f):
        other = ctx.walk(r).get(key) if r is not result else None
        if (
            other
            and other.status == "root"
            and other.explanation
            and not (other.explanation.id == "missing-layer" and own is None)
        ):
            where = f" (in the case with widths {list(r.case.widths)}, batch {r.case.batch})"
            others.append(
                (
                    replace(other.explanation, detail=other.explanation.detail + where),
                    _role_weight(result.case, r.case, key[0]),
                )
            )
    voted = _vote(own, others)
    if voted is None:
        facts = ctx.facts(result)
        evidence = finding.evidence or describe_difference(facts.result.returned[key], facts.true_grad(key))
        return Explanation("unclassified", _unexplained_words(evidence), 0.5, evidence)
    if finding.after:
        voted = replace(
            voted,
            confidence=round(voted.confidence * 0.8, 3),
            evidence={**voted.evidence, "after_unexplained": label(finding.after)},
        )
    return voted


def _zero_in_every_case(ctx: Context, f: Failure) -> bool:
    """A gradient that is never computed is zero in every case, not just in one."""
    key = gradient_key(f)
    return all(r.returned.get(key) is not None and not bool(r.returned[key].any()) for r, _ in same_key(ctx.results, f))


def _unexplained_words(evidence: dict) -> str:
    ratio = evidence.get("norm_ratio")
    parts = [
        f"‖returned‖ / ‖true‖ = {ratio:.3g}" if ratio is not None else "",
        f"cosine {evidence.get('cosine', 0):.3f}",
        str(evidence.get("pattern", "")),
    ]
    return "no known bug reproduces this gradient: " + ", ".join(p for p in parts if p)


def finite(ctx: Context, f: Failure) -> Explanation:
    result = ctx.result_of(f)
    facts = ctx.facts(result)
    key = gradient_key(f)
    finding = nan_findings(facts).get(key, WalkStep("root"))
    if finding.status == "consequence" and finding.root is not None:
        return Explanation(
            "numerical-instability",
            "",
            0.9,
            {},
            consequence_of=label(finding.root),
            same_layer=finding.root[0] == f.layer,
        )
    note = saturation_note(facts, key)
    largest = max(float(z.abs().max()) for z in facts.zs)
    saturated = result.case.regime == "saturated" or largest >= 40
    where = f"{f.param}_grads[{f.layer}] is {f.kind} where the true gradient is finite" + (f" ({note})" if note else "")
    if not saturated:
        return Explanation(
            "unclassified",
            f"{where}, in a case without saturated activations (largest |z| = {largest:.3g}): no overflow explains it",
            0.6,
            {},
            fix="Look for a 0/0, a log or sqrt of a negative number, or NaN/inf written into the gradient.",
        )
    return Explanation("numerical-instability", where + f", in a saturated case (largest |z| = {largest:.3g})", 0.9, {})


def gradient_shapes(ctx: Context, f: Failure) -> Explanation:
    result = ctx.result_of(f)
    key = gradient_key(f)
    own = explain_shape(ctx.facts(result), key, list(f.got))
    others = [
        (explain_shape(ctx.facts(r), gradient_key(g), list(g.got)), _role_weight(result.case, r.case, key[0]))
        for r, g in same_key(ctx.results, f)
        if r is not result
    ]
    known = [(e, w) for e, w in others if e.id != "unclassified"]
    if own.id == "unclassified" and not known:
        return own
    voted = _vote(own if own.id != "unclassified" else None, known)
    return voted if voted is not None else own  # never None here: own or a known explanation votes


def _loss_factors(facts: CaseFacts) -> list[tuple[float, str]]:
    """Ratios of a returned loss to the true one that real bugs produce, in the spec's terms."""
    spec, B, n_L = facts.spec, facts.batch, facts.widths[-1]
    half = "the ½ of ½ Σ (a⁽ᴸ⁾ − ȳ)² is missing" if spec.criterion == "half_sse" else "a stray factor 2"
    named = [(2.0, f"twice the right value: {half}"), (0.5, "half the right value: an extra ½")]
    if B > 1:
        named.append(
            (B, f"B = {B} times the right value: summed over the batch instead of averaged")
            if spec.batch_reduction == "mean"
            else (1 / B, f"1/B = 1/{B} of the right value: averaged over the batch instead of summed")
        )
    if n_L > 1 and spec.criterion != "softmax_ce":
        named.append(
            (n_L, f"n_L = {n_L} times the right value: summed over the outputs instead of averaged")
            if spec.criterion == "mse" or spec.output_reduction == "mean"
            else (1 / n_L, f"1/n_L = 1/{n_L} of the right value: averaged over the outputs instead of summed")
        )
    return named


def _loss_penalty(facts: CaseFacts, got: float, expected: float) -> Explanation | None:
    """The L2 penalty of the returned loss left out, off by a factor, or covering the biases."""
    spec, B = facts.spec, facts.batch
    c = spec.penalty_factor(B)
    if c == 0:
        return None
    weights = c * sum(float(w.pow(2).sum()) for w in facts.W)
    biases = c * sum(float(v.pow(2).sum()) for v in facts.b)
    penalty = weights + (biases if spec.l2_biases else 0.0)
    offsets = [
        (-penalty, "regularization-missing", "leaves out the L2 penalty"),
        (penalty, "regularization-wrong-factor", "has twice the L2 penalty"),
        (-penalty / 2, "regularization-wrong-factor", "has half the L2 penalty"),
    ]
    if not spec.l2_biases:
        offsets.append((biases, "regularization-on-biases", "adds the biases' squares to the L2 penalty"))
    for offset, id_, words in offsets:
        if abs(offset) > 1e-9 * abs(expected) and abs(got - (expected + offset)) <= 1e-6 * max(abs(expected), abs(got)):
            return Explanation(
                id_,
                f"the returned loss {words} (it differs from the true loss by {offset:.6g})",
                0.9,
                {"ratio": got / expected if expected else None},
            )
    return None


def _unfinished(result: CaseResult) -> bool:
    """The template's blanks are still blank: the loss is None, or no gradient was filled in."""
    loss_none = any(g.check == "loss-value" and g.kind == "type" and g.got == "NoneType" for g in result.failures)
    missing = sum(g.check == "gradient-types" and g.kind == "missing" for g in result.failures)
    return loss_none or missing == 2 * result.case.depth


_UNFINISHED = Explanation(
    "unfinished-template",
    "the loss is None or no gradient is filled in: the template's blanks are still blank",
    0.9,
    {},
)


def _non_finite_loss(got: float, expected: float) -> Explanation:
    """An inf or NaN loss where the true one is finite is overflow or underflow, never a penalty
    or factor: every comparison with the true loss is meaningless (inf matches any offset)."""
    return Explanation(
        "numerical-instability",
        f"the returned loss is {got} where the true loss is {expected:.6g}: "
        "a value overflowed or a probability underflowed to 0 before its log",
        0.9,
        {},
    )


def loss_value(ctx: Context, f: Failure) -> Explanation:
    if f.kind == "type" and _unfinished(ctx.result_of(f)):
        return _UNFINISHED
    if f.kind != "value":
        return Explanation(
            "unclassified",
            describe_failure(f),
            0.8,
            {},
            fix="Return the loss as a number or a float tensor "
            "(0-d, or the seed's elementwise ½ (a⁽ᴸ⁾ − ȳ)², which is summed).",
        )
    result = ctx.result_of(f)
    facts = ctx.facts(result)
    got, expected = float(f.got), float(f.expected)
    if not math.isfinite(got) and math.isfinite(expected):
        return _non_finite_loss(got, expected)
    ratio = got / expected if expected else float("nan")
    grads_right = not any(g.check in ("gradient-values", "gradient-shapes", "finite") for g in result.failures)
    if loss_is_bias_free(facts):
        return Explanation(
            "missing-bias-in-forward",
            f"the loss {got:.6g} is that of the same network without biases (z = W a, no + b)",
            0.95 if gradients_are_bias_free(facts) or grads_right else 0.8,
            {"ratio": ratio},
        )
    penalty = _loss_penalty(facts, got, expected)
    if penalty is not None:
        return penalty
    for value, words in _loss_factors(facts):
        if abs(ratio - value) <= 1e-4 * value:
            return Explanation(
                "loss-value", f"the returned loss is {words}", 0.95 if grads_right else 0.6, {"ratio": ratio}
            )
    if grads_right:
        return Explanation(
            "loss-value",
            f"the returned loss is {ratio:.4g} times the true {loss_words(ctx.spec)} while every gradient is right",
            0.7,
            {"ratio": ratio},
        )
    return Explanation(
        "unclassified",
        f"the loss is {ratio:.4g} times the true one and the gradients are wrong too: "
        "check the forward pass z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾, a⁽ˡ⁾ = f(z⁽ˡ⁾)",
        0.5,
        {"ratio": ratio},
    )


# -- structural checks -----------------------------------------------------------------------


def _raised(f: Failure) -> Callable[[CaseResult], bool]:
    return lambda r: any(g.key == f.key for g in r.failures)


def call(ctx: Context, f: Failure) -> Explanation:
    if f.kind == "timeout":
        return Explanation("timeout", describe_failure(f), 0.9, {})
    error, where = str(f.error), f.where
    quoted = error + (f" at {where}" if where else "")
    if _UNPACK.search(error):
        return Explanation(
            "wrong-depth-handling",
            f"the call raised {quoted}: the code unpacks the layers into a fixed number of names",
            0.9,
            {},
        )
    if unit_width_partition(ctx.results, _raised(f)):
        return Explanation("width-one-layer", f"the call raises {quoted}, exactly when a layer has width 1", 0.9, {})
    depths = depth_partition(ctx.results, _raised(f))
    pattern = ""
    if depths:
        failing, running = (", ".join(map(str, sorted(d))) for d in depths)
        pattern = f", only for networks of depth {failing} (depth {running} runs)"
    return Explanation(
        "exception", f"the call raised {quoted}{pattern}", 0.95, {"pattern": pattern.strip(", ") or None}
    )


_CONTRACT = (
    "Return (loss, W_grads, b_grads): the loss, then lists of plain torch tensors, "
    "one per layer, shaped like W[l] and b[l]."
)


def returns(ctx: Context, f: Failure) -> Explanation:
    detail = describe_failure(f)
    if f.got == "NoneType":
        detail += ": is the return statement missing?"
    return Explanation("unclassified", detail, 0.9, {}, fix=_CONTRACT)


def gradient_count(ctx: Context, f: Failure) -> Explanation:
    if f.kind == "count" and f.got == f.expected - 1:
        return Explanation(
            "missing-layer",
            f"{f.param}_grads has {f.got} entries for {f.expected} layers: one layer's gradient is never computed",
            0.9,
            {},
        )
    return Explanation("unclassified", describe_failure(f), 0.7, {}, fix=_CONTRACT)


def gradient_types(ctx: Context, f: Failure) -> Explanation:
    if f.kind == "missing" and _unfinished(ctx.result_of(f)):
        return _UNFINISHED
    if f.kind == "missing":
        return Explanation(
            "missing-layer", f"{f.param}_grads[{f.layer}] is None: that layer's gradient is never computed", 0.9, {}
        )
    if f.kind == "subclass":
        return Explanation(
            "unclassified",
            describe_failure(f),
            0.8,
            {},
            fix="Return plain tensors: don't wrap the gradients (nn.Parameter, subclasses); .detach() them if needed.",
        )
    return Explanation("unclassified", describe_failure(f), 0.8, {}, fix=_CONTRACT)


def _structural(id_: str) -> Rule:
    def rule(ctx: Context, f: Failure) -> Explanation:
        return Explanation(id_, describe_failure(f), 0.95, {})

    return rule


def _nan_repeat(results: list[CaseResult], f: Failure) -> bool:
    """Whether a hidden-state failure is only NaN met again: NaN ≠ NaN, so a twice-NaN repeat "differs"."""
    changed = f.tensors
    again = next((r for r in results if any(g is f for g in r.failures)), None)
    first = next((r for r in results if again is not None and r.case == again.case and r is not again), None)
    if first is None or not changed:
        return False
    keys = [(int(name.split("[")[1].rstrip("]")), name[0]) for name in changed]
    pairs = [(first.returned.get(k), again.returned.get(k)) for k in keys]  # type: ignore[union-attr]
    return all(
        a is not None
        and b is not None
        and not bool(torch.isfinite(a).all())
        and torch.equal(a.nan_to_num(), b.nan_to_num())
        for a, b in pairs
    )


def hidden_state(ctx: Context, f: Failure) -> Explanation:
    if _nan_repeat(ctx.results, f):
        first = next(r for r in ctx.results if r.case == f.case)
        root = next((g for g in first.failures if g.check == "finite"), None)
        changed = ", ".join(f.tensors)
        id_ = finite(ctx, root).id if root else "numerical-instability"
        return Explanation(
            id_,
            f"the repeated call returned the same non-finite {changed} again (NaN ≠ NaN): not state between calls",
            0.9,
            {},
            consequence_of=failure_label(root) if root else "finite",
            nan_repeat=True,
        )
    return Explanation("hidden-state", describe_failure(f), 0.95, {})


# The rule that explains a failure of each check of the checker core.
CHECK_RULES: dict[CoreCheck, Rule] = {
    "call": call,
    "returns": returns,
    "loss-value": loss_value,
    "gradient-count": gradient_count,
    "gradient-types": gradient_types,
    "gradient-shapes": gradient_shapes,
    "gradient-dtypes": _structural("dtype-mismatch"),
    "gradient-devices": _structural("device-mismatch"),
    "finite": finite,
    "gradient-values": gradient_values,
    "input-mutation": _structural("input-mutation"),
    "hidden-state": hidden_state,
}
