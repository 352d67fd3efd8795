"""The diagnosis ids and what to change for each, in the seed's equations' terms.

A hint is two sentences: what the harness found in this implementation (the explanation's
detail: which layer, which factor, which activation), then the fix for that kind of bug, citing
the equation it breaks. Text lives here, apart from the code that finds the bug.
"""

from __future__ import annotations

__all__ = ["EQUATIONS", "FIXES", "DIAGNOSIS_IDS", "make_hint", "consequence_hint", "stale_hint", "shape_error_hint", "forward_hint", "nan_repeat_hint"]

EQUATIONS = {
    "output": "δ⁽ᴸ⁾ = (a⁽ᴸ⁾ − ȳ) ∘ a⁽ᴸ⁾ ∘ (1 − a⁽ᴸ⁾)",
    "hidden": "δ⁽ˡ⁾ = ((W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾) ∘ a⁽ˡ⁾ ∘ (1 − a⁽ˡ⁾)",
    "weight": "∇W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ",
    "bias": "∇b⁽ˡ⁾ = δ⁽ˡ⁾",
}
_ALL = ", ".join(EQUATIONS.values())

FIXES = {
    "layer0-uses-wrong-input": "Layer 0's input is x: ∇W⁽⁰⁾ = δ⁽⁰⁾ xᵀ. In Python a[l-1] at l = 0 is a[-1], the last activation; use x when l == 0.",
    "outer-product-wrong-activation": "∇W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ takes the activation that feeds layer l, a⁽ˡ⁻¹⁾ (x for layer 0); fix the index in the outer product.",
    "transposed-weight-gradient": "∇W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ is shaped like W⁽ˡ⁾, [n_{l+1}, n_l]: compute delta @ a_prev.T in that order, and don't reshape to hide a shape error.",
    "missing-activation-derivative": f"Both {EQUATIONS['output']} and {EQUATIONS['hidden']} end with the sigmoid's σ′ = a ∘ (1 − a) of that layer; multiply it in.",
    "wrong-activation-derivative": f"The sigmoid's derivative is σ′(z⁽ˡ⁾) = a⁽ˡ⁾ ∘ (1 − a⁽ˡ⁾), from the same layer's activation, as in {EQUATIONS['hidden']}.",
    "missing-transpose-in-backprop": f"{EQUATIONS['hidden']} needs the transpose: W[l+1].T @ delta (without it the code only runs on square layers).",
    "wrong-weight-in-backprop": f"{EQUATIONS['hidden']} propagates with the weights of the layer above, W⁽ˡ⁺¹⁾; fix the weight index.",
    "sign-flip": f"{EQUATIONS['output']} starts from a⁽ᴸ⁾ − ȳ, the derivative of ½‖a⁽ᴸ⁾ − ȳ‖²; return the gradient itself, not the descent step −∇.",
    "scale-factor": f"The seed's equations carry no constant: {EQUATIONS['output']} (the loss's ½ cancels the square's 2), {EQUATIONS['weight']}, {EQUATIONS['bias']}; remove the factor.",
    "mean-instead-of-sum": "The loss ½ Σ (a⁽ᴸ⁾ − ȳ)² sums over the batch and the outputs, so the gradients sum too (∇b⁽ˡ⁾ = Σ_batch δ⁽ˡ⁾); don't divide by B or n_L, and don't use .mean().",
    "loss-value": "Return the loss ½ Σ (a⁽ᴸ⁾ − ȳ)², summed over every entry; the gradients are already right.",
    "layer-order": "W_grads[l] and b_grads[l] hold layer l's gradients, indexed like W and b; if you append while walking back from the output, reverse the lists (or fill them by index).",
    "swapped-weight-and-bias": f"Return (loss, W_grads, b_grads) in that order: {EQUATIONS['weight']} in the first list, {EQUATIONS['bias']} in the second.",
    "missing-layer": f"Compute {EQUATIONS['weight']} and {EQUATIONS['bias']} for every layer l = L, ..., 0: check the loop's bounds (range(L, -1, -1) includes layer 0).",
    "bias-not-summed-over-batch": "∇b⁽ˡ⁾ is δ⁽ˡ⁾ summed over the batch: delta.sum(dim=1, keepdim=True), shaped [n, 1] like b⁽ˡ⁾.",
    "missing-bias-in-forward": "The forward pass is z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾: add the bias; the loss and the gradients follow from a right forward pass.",
    "wrong-depth-handling": "Loop over the layers l = 0, ..., L with L = len(W) − 1 instead of hard-coding the depth or special-casing one layer: every depth, one layer included, uses the same equations.",
    "width-one-layer": "Keep every tensor 2-D: a bare squeeze() also drops the axis of a width-1 layer; use sum(dim=1, keepdim=True), an explicit squeeze(dim), or reshape to [n, 1].",
    "numerical-instability": "Compute σ′ from the activation, a ∘ (1 − a), or as σ(z)σ(−z): exp(±z) overflows to inf where sigmoids saturate, and inf/inf is NaN.",
    "single-entry-error": "Look for a slip in one term: an index, a hand-unrolled loop, an in-place edit of one entry.",
    "input-mutation": "Don't modify x, y, W or b in place (+=, .sub_(), slice assignment, or in-place ops on a view such as reshape()); work on new tensors.",
    "hidden-state": "Don't keep results between calls (module-level caches, accumulators, default-argument lists): compute everything from the arguments, every call.",
    "dtype-mismatch": "Return each gradient in its parameter's dtype: build tensors with dtype=W[l].dtype (or *_like), or cast back before returning.",
    "device-mismatch": "Return each gradient on its parameter's device: create tensors with device=x.device (or *_like), never the default device.",
    "exception": "Fix that line: it is the implementation's own code, where the error was raised.",
    "timeout": "The call did not return in time: look for a loop that never ends.",
    "unclassified": f"Check each step against the seed's equations: {_ALL}.",
}
DIAGNOSIS_IDS = tuple(FIXES)


def sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    first = text.split()[0]
    if first.isascii() and first.isalpha():  # "the call ..." -> "The call ..."; δ⁽²⁾ and b_grads stay
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def make_hint(id_: str, detail: str, fix: str = "") -> str:
    """What was found, then what to change (``fix`` where the id's general advice doesn't fit)."""
    return " ".join(s for s in (sentence(detail), fix or FIXES[id_]) if s)


def consequence_hint(root: str, root_id: str, same_layer: bool) -> str:
    """For a failure that only inherits another one's error."""
    if same_layer:
        return f"Same wrong δ as {root} ({EQUATIONS['bias']}, {EQUATIONS['weight']}): not a separate bug; fix {root} ({root_id}) first."
    return f"Inherits the error from {root} ({root_id}) through {EQUATIONS['hidden']}: given the δ it received, this gradient is right. Fix {root} first."


def stale_hint() -> str:
    """For a failure that shows only in calls repeating an earlier call's shapes."""
    return "Shows only in calls that repeat an earlier call's shapes: a consequence of the state kept between calls (see the hidden-state failure); fix that first. " + FIXES["hidden-state"]


def shape_error_hint(detail: str, root: str, root_id: str) -> str:
    """For an exception that the value-level bug at ``root`` explains."""
    return f"{sentence(detail)[:-1]}: the same bug as {root} ({root_id}) raises wherever the shapes don't line up; fix {root} first."


def forward_hint() -> str:
    """For a gradient that is right for the network the forward pass actually computed."""
    return "This gradient is that of the same network without biases: it follows from the forward pass. " + FIXES["missing-bias-in-forward"]


def nan_repeat_hint(detail: str, root: str) -> str:
    """For a hidden-state failure that is only the same NaN twice."""
    return f"{sentence(detail)} Fix the non-finite gradient ({root}) first."
