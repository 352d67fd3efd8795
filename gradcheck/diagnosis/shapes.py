"""Shape-only explanations: which axis is wrong, and which true tensor the returned shape matches.

A gradient of the wrong shape has no values to test, but its shape, next to the shapes of every
other returned gradient and of the network's tensors, usually names the bug: W_grads[0] shaped
[n₁, n_L] is the seed's a[-1]; [n_l, n_{l+1}] is a transpose; the W and b lists holding each
other's shapes are swapped. Each rule is a small function; :func:`explain_shape` tries them in
order, most specific first.
"""

from __future__ import annotations

from collections.abc import Callable

from .explanations import Explanation, sup
from .facts import CaseFacts, Key, label

__all__ = ["explain_shape"]

Rule = Callable[[CaseFacts, Key, list], "Explanation | None"]


def _name(key: Key) -> str:
    return f"{key[1]}_grads[{key[0]}]"


def _bias_keeps_batch(facts: CaseFacts, key: Key, got: list) -> Explanation | None:
    layer, param = key
    if param == "b" and facts.batch > 1 and got == [facts.widths[layer + 1], facts.batch]:
        return Explanation(
            "bias-not-summed-over-batch",
            f"{_name(key)} is [n, B] = {got}: δ{sup(layer)} itself, with its batch axis, instead of its "
            "sum over the batch",
            0.95,
            {},
        )
    return None


def _swapped(facts: CaseFacts, key: Key, got: list) -> Explanation | None:
    layer, param = key
    other = (layer, "b" if param == "W" else "W")
    if got != facts.expected_shape(other) or facts.returned_shape(other) != facts.expected_shape(key):
        return None
    everywhere = all(
        facts.returned_shape((k, p)) == facts.expected_shape((k, "b" if p == "W" else "W"))
        for k in range(facts.depth)
        for p in ("W", "b")
    )
    return Explanation(
        "swapped-weight-and-bias",
        f"{_name(key)} has {label(other)}'s shape and {_name(other)} has {label(key)}'s: the two lists are swapped",
        0.95 if everywhere else 0.85,
        {},
    )


def _reversed(facts: CaseFacts, key: Key, got: list) -> Explanation | None:
    layer, param = key
    L = facts.top
    if L == 0 or got != facts.expected_shape((L - layer, param)):
        return None
    if not all(facts.returned_shape((k, param)) == facts.expected_shape((L - k, param)) for k in range(facts.depth)):
        return None
    return Explanation(
        "layer-order",
        f"the {param}_grads list runs from the output layer down ({_name(key)} has "
        f"{label((L - layer, param))}'s shape): it was never reversed",
        0.95,
        {"holds": label((L - layer, param))},
    )


def _transposed(facts: CaseFacts, key: Key, got: list) -> Explanation | None:
    if key[1] == "W" and got == facts.expected_shape(key)[::-1]:
        return Explanation(
            "transposed-weight-gradient",
            f"{_name(key)} is {got}, the transpose of W{sup(key[0])}'s shape: the outer product is taken "
            f"as a{sup(key[0] - 1)} (δ{sup(key[0])})ᵀ",
            0.95,
            {},
        )
    return None


def _width_one(facts: CaseFacts, key: Key, got: list) -> Explanation | None:
    layer, param = key
    expected = facts.expected_shape(key)
    numel = 1
    for n in got:
        numel *= n
    if len(got) >= len(expected) or numel != expected[0] * expected[1]:
        return None
    unit = facts.widths[layer + 1] == 1 or (param == "W" and facts.widths[layer] == 1)
    if unit:
        return Explanation(
            "width-one-layer",
            f"{_name(key)} came back as {got} instead of {expected}: a squeeze() also dropped the unit "
            "axis of this width-1 layer",
            0.9,
            {},
        )
    return Explanation(
        "unclassified",
        f"{_name(key)} lost an axis ({got} instead of {expected}); keep [n, 1] columns (sum(dim=1, keepdim=True))",
        0.6,
        {},
    )


def _notes(own: bool, last: bool) -> str:
    notes = [n for n, yes in (("the layer's own output", own), ("the last activation a[-1]", last)) if yes]
    return f" ({', '.join(notes)})" if notes else ""


def _outer_vector(facts: CaseFacts, key: Key, got: list) -> Explanation | None:
    layer, param = key
    n_out, n_in = facts.expected_shape(key) if param == "W" else (0, 0)
    if param != "W" or len(got) != 2 or got[0] != n_out or got[1] == n_in:
        return None
    width = got[1]
    names = [
        f"a{sup(k)}" + _notes(k == layer, k == facts.top)
        for k in range(facts.depth)
        if facts.widths[k + 1] == width and k != layer - 1
    ]
    if layer > 0 and facts.widths[0] == width:
        names.insert(0, "x")
    id_ = "layer0-uses-wrong-input" if layer == 0 else "outer-product-wrong-activation"
    right = "x" if layer == 0 else f"a{sup(layer - 1)}"
    if not names:
        return Explanation(
            id_,
            f"{_name(key)} has {width} columns where {right} has {n_in}: δ{sup(layer)} vᵀ is built with a "
            "v of the wrong width",
            0.6,
            {},
        )
    return Explanation(
        id_,
        f"{_name(key)} is [{n_out}, {width}]: δ{sup(layer)} vᵀ is built with v = {' or '.join(names)} "
        f"(width {width}) instead of {right} (width {n_in})",
        0.9,
        {"vector": names[0]},
    )


def _other_layer(facts: CaseFacts, key: Key, got: list) -> Explanation | None:
    layer, param = key
    matches = [(k, param) for k in range(facts.depth) if k != layer and facts.expected_shape((k, param)) == got]
    if not matches:
        return None
    held = " or ".join(label(m) for m in matches)
    return Explanation(
        "layer-order",
        f"{_name(key)} has the shape of {held}: the list may hold the layers in another order",
        0.7 if len(matches) == 1 else 0.5,
        {"holds": held},
    )


def _fallback(facts: CaseFacts, key: Key, got: list) -> Explanation:
    same = [label((k, p)) for k in range(facts.depth) for p in ("W", "b") if facts.expected_shape((k, p)) == got]
    same += [f"a{sup(k)}" for k in range(facts.depth) if [facts.widths[k + 1], facts.batch] == got]
    words = f"; that is the shape of {', '.join(same)}" if same else ""
    return Explanation(
        "unclassified",
        f"{_name(key)} has shape {got} where {label(key)} has {facts.expected_shape(key)}{words}",
        0.5,
        {"same_shape_as": same},
    )


SHAPE_RULES: tuple[Rule, ...] = (
    _bias_keeps_batch,
    _swapped,
    _reversed,
    _transposed,
    _width_one,
    _outer_vector,
    _other_layer,
)


def explain_shape(facts: CaseFacts, key: Key, got: list) -> Explanation:
    """The first rule that names the shape, else ``unclassified`` with the shapes it matches."""
    for rule in SHAPE_RULES:
        found = rule(facts, key, list(got))
        if found:
            return found
    return _fallback(facts, key, list(got))
