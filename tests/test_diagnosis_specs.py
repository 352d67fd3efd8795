"""Diagnosis ids for the classic bugs of non-seed specs (ReLU, tanh, softmax-CE, bce, means, L2).

Each bug is a one-line change to a plain, correct backprop written here for the presets' math
(canonical layout: ``forward_backward(x, y, W, b)``, column vectors, W ``[out, in]``, b
``[out, 1]``). The correct version must pass with no diagnosis; each buggy one must fail with
its id as the root diagnosis (the report's first failure).
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

import gradcheck
from gradcheck.diagnosis import DIAGNOSIS_IDS, FIXES
from gradcheck.presets import get_preset

# (activation, its derivative from (z, a)), written the way course code writes them.
ACTS = {
    "sigmoid": (torch.sigmoid, lambda z, a: a * (1 - a)),
    "tanh": (torch.tanh, lambda z, a: 1 - a * a),
    "relu": (torch.relu, lambda z, a: (z > 0).to(z.dtype)),
    "identity": (lambda z: z, lambda z, a: torch.ones_like(z)),
}


def network(
    spec, *, prime=None, output_delta=None, data_scale=1.0, bias_scale=1.0, reg_W=1.0, reg_b=0.0, loss_reg_b=False
):
    """A correct backprop for ``spec`` (sigmoid/tanh/ReLU/identity; half-SSE, bce or softmax-CE;
    sum or mean over the batch; L2 on the weights), with one step replaceable by a bug:

    ``prime(l, z, a, zs, acts)``: the hidden derivative; ``output_delta(z, a, y, m)``: δ⁽ᴸ⁾;
    ``data_scale``: multiplies the data part of every gradient; ``bias_scale``: of ∇b only;
    ``reg_W``: multiplies the L2 term of ∇W; ``reg_b``: adds reg_b·2c·b to ∇b; ``loss_reg_b``:
    the loss's penalty covers the biases.
    """
    hidden, output = ACTS[spec.hidden.name], ACTS[spec.output.name]

    def forward_backward(x, y, W, b):
        B, L = x.shape[1], len(W) - 1
        m = B if spec.batch_reduction == "mean" else 1
        c = spec.l2 * (0.5 if spec.l2_form == "half" else 1.0) / (B if spec.l2_batch_mean else 1)
        zs, acts, a = [], [], x
        for l, (W_l, b_l) in enumerate(zip(W, b)):
            zs.append(W_l @ a + b_l)
            a = (output if l == L else hidden)[0](zs[-1])
            acts.append(a)
        z, a = zs[L], acts[L]
        if spec.criterion == "softmax_ce":
            p = torch.softmax(z, dim=0)
            loss, d = -(y * torch.log_softmax(z, dim=0)).sum() / m, (p - y) / m
        elif spec.criterion == "bce":
            loss, d = (
                (torch.nn.functional.softplus(z) - y * z).sum() / m,
                (a - y) / m,
            )  # −[y log a + (1 − y) log(1 − a)], stable
        else:  # half_sse
            loss, d = 0.5 * ((a - y) ** 2).sum() / m, (a - y) * output[1](z, a) / m
        if output_delta:
            d = output_delta(z, a, y, m)
        loss = (
            loss
            + c * sum((W_l**2).sum() for W_l in W)
            + (c * sum((b_l**2).sum() for b_l in b) if spec.l2_biases or loss_reg_b else 0)
        )
        inputs = [x, *acts[:-1]]
        W_grads, b_grads = [None] * (L + 1), [None] * (L + 1)
        for l in range(L, -1, -1):
            W_grads[l] = data_scale * d @ inputs[l].T + reg_W * 2 * c * W[l]
            b_grads[l] = bias_scale * data_scale * d.sum(dim=1, keepdim=True) + reg_b * 2 * c * b[l]
            if l > 0:
                d = (W[l].T @ d) * (prime or (lambda l, z, a, zs, acts: hidden[1](z, a)))(
                    l - 1, zs[l - 1], acts[l - 1], zs, acts
                )
        return loss, W_grads, b_grads

    return forward_backward


def check(fn, spec):
    return gradcheck.check(fn, spec=spec, max_examples=0)


def root(report):
    """The diagnosis of the report's first failure (the root cause: failures come root first)."""
    assert report.failures, "the bug went unnoticed"
    return report.diagnosis_of(report.failures[0])


CS231N = get_preset("cs231n-two-layer")  # ReLU -> softmax-CE, mean, reg·ΣW² (weights only)
DLAI = get_preset("deeplearning-ai")  # ReLU hidden, sigmoid output, bce mean
PLANAR = get_preset("deeplearning-ai-planar")  # tanh hidden, sigmoid output, bce mean
NIELSEN = get_preset("nielsen")  # the seed's math, with batches
DLAI_L2 = get_preset("deeplearning-ai-l2")  # + λ/(2m)·ΣW²


@pytest.mark.parametrize("spec", [CS231N, DLAI, PLANAR, NIELSEN, DLAI_L2], ids=lambda s: s.name)
def test_a_correct_implementation_passes_without_diagnosis(spec):
    report = check(network(spec), spec)
    assert not report.failures, [(f.check, f.layer, f.param, report.diagnosis_of(f)) for f in report.failures]


def _mask_from_layer_above(l, z, a, zs, acts):
    """`dZ[Z_next <= 0] = 0` with the next layer's cache: right only where the widths match."""
    return (zs[l + 1] > 0).to(z.dtype) if zs[l + 1].shape == z.shape else (z > 0).to(z.dtype)


# (name, spec, bug, expected root id, words the hint must contain)
BUGS = [
    ("every gradient 1/B under a summed loss", NIELSEN, dict(data_scale=None), "mean-instead-of-sum", "1/B"),
    ("δ not divided by B under a mean", CS231N, dict(data_scale="B"), "sum-instead-of-mean", "B"),
    ("np.sum(dZ) for the bias without /m", DLAI, dict(bias_scale="B"), "sum-instead-of-mean", "B"),
    ("L2 added to the bias gradient", CS231N, dict(reg_b=1.0), "regularization-on-biases", "biases"),
    ("L2 penalty of the loss covers the biases", CS231N, dict(loss_reg_b=True), "regularization-on-biases", "Σb²"),
    ("L2 term left out of ∇W", CS231N, dict(reg_W=0.0), "regularization-missing", "2c·W"),
    ("L2 term of ∇W halved (reg·W for reg·ΣW²)", CS231N, dict(reg_W=0.5), "regularization-wrong-factor", "half"),
    ("L2 term of ∇W doubled", DLAI_L2, dict(reg_W=2.0), "regularization-wrong-factor", "twice"),
    (
        "tanh′ of the output",
        PLANAR,
        dict(prime=lambda l, z, a, zs, acts: 1 - torch.tanh(a) ** 2),
        "derivative-of-output",
        "tanh′(a",
    ),
    (
        "σ′ of the output",
        NIELSEN,
        dict(prime=lambda l, z, a, zs, acts: torch.sigmoid(a) * (1 - torch.sigmoid(a))),
        "derivative-of-output",
        "σ′(a",
    ),
    ("ReLU mask from the layer above", DLAI, dict(prime=_mask_from_layer_above), "relu-mask-wrong-layer", "mask"),
    (
        "scores minus targets, no softmax",
        CS231N,
        dict(output_delta=lambda z, a, y, m: (z - y) / m),
        "softmax-gradient-missing-softmax",
        "softmax",
    ),
]


@pytest.mark.parametrize("name, spec, bug, expected, words", BUGS, ids=[b[0] for b in BUGS])
def test_a_classic_bug_gets_its_id_as_the_root_diagnosis(name, spec, bug, expected, words):
    fn = _buggy(spec, bug)
    first = root(check(fn, spec))
    assert first.id == expected, (first.id, first.hint)
    assert first.confidence >= 0.5
    assert words in first.hint, first.hint


def _buggy(spec, bug: dict):
    """``network`` with the bug; data_scale/bias_scale "B" or None mean ×B or ×1/B at call time."""
    scale = {k: v for k, v in bug.items() if k in ("data_scale", "bias_scale") and v in ("B", None)}
    if not scale:
        return network(spec, **bug)
    rest = {k: v for k, v in bug.items() if k not in scale}

    def forward_backward(x, y, W, b):
        B = x.shape[1]
        factors = {k: (B if v == "B" else 1 / B) for k, v in scale.items()}
        return network(spec, **rest, **factors)(x, y, W, b)

    return forward_backward


def test_every_new_id_has_a_fix():
    new = [
        "sum-instead-of-mean",
        "regularization-on-biases",
        "regularization-missing",
        "regularization-wrong-factor",
        "derivative-of-output",
        "relu-mask-wrong-layer",
        "softmax-gradient-missing-softmax",
    ]
    assert set(new) <= set(DIAGNOSIS_IDS) and all(FIXES[i].strip() for i in new)


def test_hints_name_the_specs_activation_not_the_sigmoid():
    """A missing derivative in a tanh network: the hint speaks of tanh′, not of σ′ = a(1 − a)."""
    fn = network(PLANAR, prime=lambda l, z, a, zs, acts: torch.ones_like(z))
    first = root(check(fn, PLANAR))
    assert first.id == "missing-activation-derivative", first.hint
    assert "tanh" in first.hint and "sigmoid" not in first.hint and "σ′" not in first.hint, first.hint


def test_regularization_on_biases_needs_a_spec_without_bias_penalty():
    """Where the spec regularises biases too, the same code is right: no failure at all."""
    spec = dataclasses.replace(CS231N, l2_biases=True)
    fn = network(spec, reg_b=1.0)
    report = check(fn, spec)
    assert not report.failures, [(f.check, f.layer, f.param, report.diagnosis_of(f)) for f in report.failures]


def test_hints_under_another_spec_cite_its_equations():
    """The hidden recursion of a tanh network, with its derivative parenthesised, and the /B of a mean."""
    fn = network(PLANAR, prime=lambda l, z, a, zs, acts: 1 - torch.tanh(a) ** 2)
    hint = root(check(fn, PLANAR)).hint
    assert "∘ (1 − (a⁽ˡ⁾)²)" in hint, hint
    fn = _buggy(CS231N, dict(data_scale="B"))
    assert "(softmax(z⁽ᴸ⁾) − ȳ)/B" in root(check(fn, CS231N)).hint
