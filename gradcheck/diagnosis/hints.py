"""The diagnosis ids and what to change for each, in the spec's equations' terms.

A hint is two sentences: what the harness found in this implementation (the explanation's
detail: which layer, which factor, which activation), then the fix for that kind of bug, citing
the equation it breaks. Text lives here, apart from the code that finds the bug.

:data:`FIXES` is written for the seed (sigmoid, ½Σ(a − ȳ)² summed, no L2). Under another spec,
:func:`fix_for` rewrites the fixes that cite the loss or the activation with :func:`equations`
of that spec (tanh′, softmax(z⁽ᴸ⁾) − ȳ, /B, + 2c·W⁽ˡ⁾ ...).
"""

from __future__ import annotations

import dataclasses

from ..spec import SEED, Activation, Spec
from .explanations import A_FORMS, prime_name

__all__ = [
    "DIAGNOSIS_IDS",
    "EQUATIONS",
    "FIXES",
    "consequence_hint",
    "equations",
    "fix_for",
    "forward_hint",
    "loss_words",
    "make_hint",
    "nan_repeat_hint",
    "shape_error_hint",
    "stale_hint",
]

EQUATIONS = {
    "output": "δ⁽ᴸ⁾ = (a⁽ᴸ⁾ − ȳ) ∘ a⁽ᴸ⁾ ∘ (1 − a⁽ᴸ⁾)",
    "hidden": "δ⁽ˡ⁾ = ((W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾) ∘ a⁽ˡ⁾ ∘ (1 − a⁽ˡ⁾)",
    "weight": "∇W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ",
    "bias": "∇b⁽ˡ⁾ = δ⁽ˡ⁾",
}
_ALL = ", ".join(EQUATIONS.values())

FIXES = {
    "layer0-uses-wrong-input": (
        "Layer 0's input is x: ∇W⁽⁰⁾ = δ⁽⁰⁾ xᵀ. In Python a[l-1] at l = 0 is a[-1], the last activation; use "
        "x when l == 0."
    ),
    "outer-product-wrong-activation": (
        "∇W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ takes the activation that feeds layer l, a⁽ˡ⁻¹⁾ (x for layer 0); fix the "
        "index in the outer product."
    ),
    "transposed-weight-gradient": (
        "∇W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ is shaped like W⁽ˡ⁾, [n_{l+1}, n_l]: compute delta @ a_prev.T in that order, "
        "and don't reshape to hide a shape error."
    ),
    "missing-activation-derivative": (
        f"Both {EQUATIONS['output']} and {EQUATIONS['hidden']} end with the sigmoid's σ′ = a ∘ (1 − a) of "
        "that layer; multiply it in."
    ),
    "wrong-activation-derivative": (
        "The sigmoid's derivative is σ′(z⁽ˡ⁾) = a⁽ˡ⁾ ∘ (1 − a⁽ˡ⁾), from the same layer's activation, as in "
        f"{EQUATIONS['hidden']}."
    ),
    "missing-transpose-in-backprop": (
        f"{EQUATIONS['hidden']} needs the transpose: W[l+1].T @ delta (without it the code only runs on square layers)."
    ),
    "wrong-weight-in-backprop": (
        f"{EQUATIONS['hidden']} propagates with the weights of the layer above, W⁽ˡ⁺¹⁾; fix the weight index."
    ),
    "sign-flip": f"{EQUATIONS['output']} starts from a⁽ᴸ⁾ − ȳ, the derivative of ½‖a⁽ᴸ⁾ − ȳ‖²; return the gradient "
    "itself, not the descent step −∇.",
    "scale-factor": f"The seed's equations carry no constant: {EQUATIONS['output']} (the loss's ½ cancels the square's "
    f"2), {EQUATIONS['weight']}, {EQUATIONS['bias']}; remove the factor.",
    "mean-instead-of-sum": (
        "The loss ½ Σ (a⁽ᴸ⁾ − ȳ)² sums over the batch and the outputs, so the gradients sum too (∇b⁽ˡ⁾ = "
        "Σ_batch δ⁽ˡ⁾); don't divide by B or n_L, and don't use .mean()."
    ),
    "sum-instead-of-mean": (
        "The spec's loss averages over the batch (or the outputs), so every gradient carries the same 1/B "
        "(1/n_L) as the loss: divide δ⁽ᴸ⁾ once, at the output, and let ∇W⁽ˡ⁾ and ∇b⁽ˡ⁾ inherit it "
        "(np.sum(dZ) for the bias needs the same /m as dW)."
    ),
    "regularization-on-biases": (
        "The spec's L2 penalty covers the weights only: ∇b⁽ˡ⁾ = Σ_batch δ⁽ˡ⁾ has no penalty term; drop the "
        "reg·b term from the bias gradient (and Σb² from the loss). Biases that start at zero hide this bug."
    ),
    "regularization-missing": (
        "The L2 penalty c·Σ‖W⁽ˡ⁾‖² adds 2c·W⁽ˡ⁾ to ∇W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ: add it to every layer's weight "
        "gradient (c = λ, λ/2, or λ/(2m) as the spec's penalty says)."
    ),
    "regularization-wrong-factor": (
        "The gradient of c·Σ‖W⁽ˡ⁾‖² is 2c·W⁽ˡ⁾: with reg·ΣW² that is 2·reg·W, with ½·reg·ΣW² it is reg·W, "
        "with λ/(2m)·ΣW² it is (λ/m)·W; match the term to the penalty the loss uses."
    ),
    "derivative-of-output": (
        "An activation's derivative is taken at the layer's input z⁽ˡ⁾: f′(z⁽ˡ⁾), or the same written from "
        "the output, e.g. 1 − (a⁽ˡ⁾)² for tanh, a⁽ˡ⁾ ∘ (1 − a⁽ˡ⁾) for the sigmoid; f′(a⁽ˡ⁾) applies the "
        "activation twice."
    ),
    "relu-mask-wrong-layer": (
        "δ⁽ˡ⁾ = ((W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾) ∘ 1[z⁽ˡ⁾ > 0]: the ReLU mask comes from the same layer's pre-activation "
        "z⁽ˡ⁾ (cache it with that layer), not from the layer above or below."
    ),
    "softmax-gradient-missing-softmax": (
        "With softmax + cross-entropy, δ⁽ᴸ⁾ = softmax(z⁽ᴸ⁾) − ȳ (divided by B for a mean): subtract the "
        "one-hot targets from the probabilities, not from the raw scores."
    ),
    "loss-value": "Return the loss ½ Σ (a⁽ᴸ⁾ − ȳ)², summed over every entry; the gradients are already right.",
    "layer-order": "W_grads[l] and b_grads[l] hold layer l's gradients, indexed like W and b; if you append while "
    "walking back from the output, reverse the lists (or fill them by index).",
    "swapped-weight-and-bias": (
        f"Return (loss, W_grads, b_grads) in that order: {EQUATIONS['weight']} in the first list, "
        f"{EQUATIONS['bias']} in the second."
    ),
    "missing-layer": f"Compute {EQUATIONS['weight']} and {EQUATIONS['bias']} for every layer l = L, ..., 0: check the "
    "loop's bounds (range(L, -1, -1) includes layer 0).",
    "bias-not-summed-over-batch": (
        "∇b⁽ˡ⁾ is δ⁽ˡ⁾ summed over the batch: delta.sum(dim=1, keepdim=True), shaped [n, 1] like b⁽ˡ⁾."
    ),
    "missing-bias-in-forward": (
        "The forward pass is z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾: add the bias; the loss and the gradients follow from "
        "a right forward pass."
    ),
    "wrong-depth-handling": (
        "Loop over the layers l = 0, ..., L with L = len(W) − 1 instead of hard-coding the depth or "
        "special-casing one layer: every depth, one layer included, uses the same equations."
    ),
    "width-one-layer": "Keep every tensor 2-D: a bare squeeze() also drops the axis of a width-1 layer; use sum(dim=1, "
    "keepdim=True), an explicit squeeze(dim), or reshape to [n, 1].",
    "numerical-instability": (
        "Compute σ′ from the activation, a ∘ (1 − a), or as σ(z)σ(−z): exp(±z) overflows to inf where "
        "sigmoids saturate, and inf/inf is NaN."
    ),
    "single-entry-error": "Look for a slip in one term: an index, a hand-unrolled loop, an in-place edit of one entry.",
    "input-mutation": (
        "Don't modify x, y, W or b in place (+=, .sub_(), slice assignment, or in-place ops on a view such "
        "as reshape()); work on new tensors."
    ),
    "hidden-state": "Don't keep results between calls (module-level caches, accumulators, default-argument lists): "
    "compute everything from the arguments, every call.",
    "dtype-mismatch": (
        "Return each gradient in its parameter's dtype: build tensors with dtype=W[l].dtype (or *_like), or "
        "cast back before returning."
    ),
    "device-mismatch": (
        "Return each gradient on its parameter's device: create tensors with device=x.device (or *_like), "
        "never the default device."
    ),
    "exception": "Fix that line: it is the implementation's own code, where the error was raised.",
    "regularization-hard-coded": (
        "Use the regularisation strength the code is given (the reg argument) everywhere, in the loss and in "
        "∇W; a constant copied from the notebook is right for that value only."
    ),
    "unfinished-template": (
        "Fill in every blank of the template: compute the loss and, for every layer, ∇W⁽ˡ⁾ = δ⁽ˡ⁾ (a⁽ˡ⁻¹⁾)ᵀ "
        "and ∇b⁽ˡ⁾ = δ⁽ˡ⁾, and return them."
    ),
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


def make_hint(id_: str, detail: str, fix: str = "", spec: Spec = SEED) -> str:
    """What was found, then what to change (``fix`` where the id's general advice doesn't fit)."""
    return " ".join(s for s in (sentence(detail), fix or fix_for(id_, spec)) if s)


def consequence_hint(root: str, root_id: str, same_layer: bool, spec: Spec = SEED) -> str:
    """For a failure that only inherits another one's error."""
    eq = equations(spec)
    if same_layer:
        return (
            f"Same wrong δ as {root} ({eq['bias']}, {eq['weight']}): not a separate bug; fix {root} ({root_id}) first."
        )
    return (
        f"Inherits the error from {root} ({root_id}) through {eq['hidden']}: given the δ it received, this "
        f"gradient is right. Fix {root} first."
    )


# -- the equations of another spec ---------------------------------------------------------------


def seed_math(spec: Spec) -> bool:
    """Whether ``spec`` computes the seed's loss (batches or not): then the seed's text applies."""
    return dataclasses.replace(spec, name=SEED.name, batch=SEED.batch) == SEED


def _factor(act: Activation, l: str) -> str:
    """`` ∘ f′(z⁽ˡ⁾)`` as the layer's derivative factor, written the usual way ('' for identity)."""
    if act.name == "identity":
        return ""
    form = A_FORMS[act.name][1].format(v=("z" if act.kinked else "a") + l)
    return f" ∘ ({form})" if form.startswith("1 − ") else f" ∘ {form}"


def _l2_coefficient(spec: Spec) -> str:
    """2c, the factor of θ in the L2 term of ∇θ: ``0.1`` or ``0.7/B``."""
    return f"{2 * spec.l2 * (0.5 if spec.l2_form == 'half' else 1.0):g}" + ("/B" if spec.l2_batch_mean else "")


def loss_words(spec: Spec) -> str:
    """The spec's loss in words: ``softmax cross-entropy, averaged over the batch, + 0.05·ΣW²``."""
    if seed_math(spec):
        return "½ Σ (a⁽ᴸ⁾ − ȳ)², summed over every entry"
    data = {
        "half_sse": "½ Σ (a⁽ᴸ⁾ − ȳ)²",
        "sse": "Σ (a⁽ᴸ⁾ − ȳ)²",
        "mse": "(a⁽ᴸ⁾ − ȳ)² averaged over the outputs",
        "bce": "binary cross-entropy",
        "softmax_ce": "softmax cross-entropy",
    }[spec.criterion]
    if spec.output_reduction == "mean" and spec.criterion in ("half_sse", "sse", "bce"):
        data += " averaged over the outputs"
    data += ", averaged over the batch" if spec.batch_reduction == "mean" else ", summed over the batch"
    if spec.l2:
        c = spec.l2 * (0.5 if spec.l2_form == "half" else 1.0)
        data += f", + {c:g}{'/B' if spec.l2_batch_mean else ''}·Σ{'(W² + b²)' if spec.l2_biases else 'W²'}"
    return data


def equations(spec: Spec = SEED) -> dict[str, str]:
    """The backprop equations of ``spec`` (keys as :data:`EQUATIONS`)."""
    if seed_math(spec):
        return EQUATIONS
    L, l, B = "⁽ᴸ⁾", "⁽ˡ⁾", "/B" if spec.batch_reduction == "mean" else ""
    n = (
        "/n_L"
        if spec.criterion == "mse" or (spec.output_reduction == "mean" and spec.criterion != "softmax_ce")
        else ""
    )
    if spec.criterion == "softmax_ce":
        output = f"δ{L} = (softmax(z{L}) − ȳ){B}"
    elif spec.criterion == "bce":
        output = f"δ{L} = (a{L} − ȳ){n}{B}"
    else:
        two = "" if spec.criterion == "half_sse" else "2"
        output = f"δ{L} = {two}(a{L} − ȳ){_factor(Activation.parse(spec.output), L)}{n}{B}"
    reg = f" + {_l2_coefficient(spec)}·" if spec.l2 else ""
    return {
        "output": output,
        "hidden": f"δ{l} = ((W⁽ˡ⁺¹⁾)ᵀ δ⁽ˡ⁺¹⁾){_factor(Activation.parse(spec.hidden), l)}",
        "weight": f"∇W{l} = δ{l} (a⁽ˡ⁻¹⁾)ᵀ" + (f"{reg}W{l}" if reg else ""),
        "bias": ("∇b⁽ˡ⁾ = Σ_batch δ⁽ˡ⁾" if spec.batch else "∇b⁽ˡ⁾ = δ⁽ˡ⁾")
        + (f"{reg}b{l}" if reg and spec.l2_biases else ""),
    }


def _derivative(spec: Spec) -> str:
    """The hidden layers' derivative named and written out: ``tanh′(z⁽ˡ⁾) = 1 − (a⁽ˡ⁾)²``."""
    act = Activation.parse(spec.hidden)
    form = A_FORMS[act.name][1].format(v=("z" if act.kinked else "a") + "⁽ˡ⁾")
    return f"{prime_name(act)}(z⁽ˡ⁾) = {form}"


_SPEC_FIXES = {
    "missing-activation-derivative": lambda s, eq: (
        f"{eq['hidden']} ends with {_derivative(s)}, the derivative of the layer's own activation "
        f"({s.hidden}); multiply it in"
        + (
            "."
            if s.output.name in ("identity",) or s.criterion in ("bce", "softmax_ce")
            else f", and at the output: {eq['output']}."
        )
    ),
    "wrong-activation-derivative": lambda s, eq: (
        f"The {s.hidden} derivative is {_derivative(s)}, from the same layer, as in {eq['hidden']}."
    ),
    "derivative-of-output": lambda s, eq: (
        f"{eq['hidden']}: the derivative is taken at the layer's input, {_derivative(s)}; "
        f"{prime_name(s.hidden)}(a⁽ˡ⁾) applies the activation twice."
    ),
    "relu-mask-wrong-layer": lambda s, eq: (
        f"{eq['hidden']}: the mask comes from the same layer's pre-activation z⁽ˡ⁾ (cache it with that "
        "layer), not from the layer above or below."
    ),
    "sign-flip": lambda s, eq: (
        f"{eq['output']} is the gradient of the spec's loss ({loss_words(s)}); return the gradient "
        "itself, not the descent step −∇."
    ),
    "scale-factor": lambda s, eq: (
        f"The spec's equations: {eq['output']}, {eq['weight']}, {eq['bias']}; remove the factor."
    ),
    "mean-instead-of-sum": lambda s, eq: (
        f"The spec's loss, {loss_words(s)}, sums where the gradient was averaged: {eq['output']}, "
        f"{eq['bias']}; don't divide by B (or n_L) there, and don't use .mean()."
    ),
    "sum-instead-of-mean": lambda s, eq: (
        f"The spec's loss, {loss_words(s)}, is averaged: {eq['output']} carries the /B once, and "
        f"{eq['weight']} and {eq['bias']} inherit it (np.sum(dZ) for the bias needs the same /m as dW)."
    ),
    "regularization-missing": lambda s, eq: (
        f"The spec's loss, {loss_words(s)}, gives {eq['weight']}: add the L2 term to every layer's weight gradient."
    ),
    "regularization-wrong-factor": lambda s, eq: (
        f"The spec's loss, {loss_words(s)}, gives {eq['weight']}: the L2 term's factor is twice the "
        "penalty's coefficient; match it to the penalty the loss uses."
    ),
    "regularization-on-biases": lambda s, eq: (
        f"The spec's loss, {loss_words(s)}, leaves biases out of the penalty: {eq['bias']}, with no reg·b "
        "term (and no Σb² in the loss). Biases that start at zero hide this bug."
    ),
    "loss-value": lambda s, eq: f"Return the spec's loss, {loss_words(s)}; the gradients are already right.",
    "numerical-instability": lambda s, eq: _stable_math(s),
    "unclassified": lambda s, eq: f"Check each step against the spec's equations: {', '.join(eq.values())}.",
}


def _stable_math(spec: Spec) -> str:
    """Overflow advice for the spec's own activations and loss (no σ′ talk under ReLU and softmax)."""
    parts = []
    if spec.criterion == "softmax_ce":
        parts.append(
            "Subtract each row's largest score before exp (the softmax is unchanged) and take the log-probability "
            "as z − logsumexp(z), not log(softmax(z)): exp overflows at large scores, and a probability that "
            "underflows to 0 has log −inf."
        )
    elif spec.criterion == "bce":
        parts.append(
            "Take the cross-entropy from the logits (log σ(z) = −softplus(−z)) or keep a away from 0 and 1: "
            "log(0) is −inf where the output saturates."
        )
    if "sigmoid" in (Activation.parse(spec.hidden).name, Activation.parse(spec.output).name):
        parts.append("Compute σ′ from the activation, a ∘ (1 − a): exp(±z) overflows where sigmoids saturate.")
    return " ".join(parts) or "Look for an exp, a log or a division that overflows or divides by zero at large |z|."


def fix_for(id_: str, spec: Spec = SEED) -> str:
    """The fix for ``id_`` in ``spec``'s terms (the seed's text where the spec computes the seed's loss)."""
    if seed_math(spec) or id_ not in _SPEC_FIXES:
        return FIXES[id_]
    return _SPEC_FIXES[id_](spec, equations(spec))


def stale_hint() -> str:
    """For a failure that shows only in calls repeating an earlier call's shapes."""
    return (
        "Shows only in calls that repeat an earlier call's shapes: a consequence of the state kept "
        "between calls (see the hidden-state failure); fix that first. " + FIXES["hidden-state"]
    )


def shape_error_hint(detail: str, root: str, root_id: str) -> str:
    """For an exception that the value-level bug at ``root`` explains."""
    return (
        f"{sentence(detail)[:-1]}: the same bug as {root} ({root_id}) raises wherever the shapes don't line "
        f"up; fix {root} first."
    )


def forward_hint() -> str:
    """For a gradient that is right for the network the forward pass actually computed."""
    return (
        "This gradient is that of the same network without biases: it follows from the forward pass. "
        + FIXES["missing-bias-in-forward"]
    )


def nan_repeat_hint(detail: str, root: str) -> str:
    """For a hidden-state failure that is only the same NaN twice."""
    return f"{sentence(detail)} Fix the non-finite gradient ({root}) first."
