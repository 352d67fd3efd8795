"""The generalised specification: the seed unchanged, every loss and penalty right, oracles agree."""

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

import reference_impl
from gradcheck.cases import CaseSpec, make_case, valid_targets
from gradcheck.checker import check_cases
from gradcheck.oracles import autograd_oracle, finite_difference_oracle
from gradcheck.spec import SEED, Activation, Spec


def test_seed_is_the_default_and_unchanged():
    assert Spec() == SEED and Spec(hidden="sigmoid", output=Activation("sigmoid")) == SEED
    assert SEED.criterion == "half_sse" and SEED.l2 == 0 and SEED.batch_reduction == "sum"
    case = make_case(CaseSpec((4, 3, 2), 3))
    loss, *_ = reference_impl.forward_backward(case.x, case.y, case.W, case.b)
    assert math.isclose(float(SEED.loss(case.x, case.y, case.W, case.b)), float(loss), rel_tol=1e-14)
    assert torch.equal(SEED.column_losses(case.x[:2], case.y), 0.5 * (case.x[:2] - case.y).pow(2).sum(0))
    assert torch.equal(SEED.activation(case.x), torch.sigmoid(case.x))
    assert make_case(CaseSpec((4, 3, 2), 3), SEED).y.equal(case.y)


def test_activation_parsing_and_derivatives():
    assert Activation.parse("leaky_relu(0.1)") == Activation("leaky_relu", 0.1)
    assert str(Activation.parse(" tanh ")) == "tanh"
    with pytest.raises(ValueError, match="softplus"):
        Activation.parse("softplus")
    z = torch.linspace(-3, 3, 13, dtype=torch.float64)
    z = z[z != 0]
    for name in ("sigmoid", "tanh", "relu", "leaky_relu(0.2)", "identity"):
        act = Activation.parse(name)
        auto = torch.func.vmap(torch.func.grad(act))(z)
        assert torch.allclose(act.derivative(z), auto, atol=1e-15), name
    assert Activation("relu").kinked and not Activation("tanh").kinked


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(criterion="bce", output="relu"), "sigmoid output"),
        (dict(criterion="softmax_ce"), "identity"),
        (dict(criterion="hinge"), "criterion='hinge'"),
        (dict(batch_reduction="max"), "batch_reduction"),
        (dict(criterion="mse", output_reduction="mean"), "output_reduction"),
        (dict(l2=-1.0), "l2=-1.0"),
    ],
)
def test_invalid_specs_say_why(bad, match):
    with pytest.raises(ValueError, match=match):
        Spec(**bad)


def _row_major_loss(spec: Spec, case) -> torch.Tensor:
    """The same loss written independently with torch.nn.functional, row-major (x [B, in])."""
    h = case.x.T
    for l, (W, b) in enumerate(zip(case.W, case.b)):
        h = h @ W.T + b.T
        h = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu, "identity": lambda t: t}[
            spec.activation_at(l, len(case.W)).name
        ](h)
    y, B = case.y.T, case.x.shape[1]
    reduce = "mean" if spec.batch_reduction == "mean" else "sum"
    if spec.criterion == "softmax_ce":
        data = F.cross_entropy(h, y.argmax(1), reduction=reduce)
    elif spec.criterion == "bce":
        per = F.binary_cross_entropy(h, y, reduction="none")
        per = per.mean(1) if spec.output_reduction == "mean" else per.sum(1)
        data = per.mean() if reduce == "mean" else per.sum()
    else:
        per = F.mse_loss(h, y, reduction="none")
        per = {"half_sse": 0.5 * per.sum(1), "sse": per.sum(1), "mse": per.mean(1)}[spec.criterion]
        if spec.output_reduction == "mean" and spec.criterion != "mse":
            per = per / y.shape[1]
        data = per.mean() if reduce == "mean" else per.sum()
    params = list(case.W) + (list(case.b) if spec.l2_biases else [])
    c = spec.l2 * (0.5 if spec.l2_form == "half" else 1) / (B if spec.l2_batch_mean else 1)
    return data + c * sum(p.pow(2).sum() for p in params)


SPECS = [
    Spec("sse-mean", criterion="sse", batch_reduction="mean"),
    Spec("half-sse-out-mean", output_reduction="mean", hidden="tanh"),
    Spec("mse", criterion="mse", output="identity", hidden="relu"),
    Spec("bce", criterion="bce", hidden="tanh", batch_reduction="mean"),
    Spec("bce-out-mean", criterion="bce", output_reduction="mean"),
    Spec("softmax", criterion="softmax_ce", output="identity", hidden="relu", l2=0.3),
    Spec("softmax-sum-half-bias", criterion="softmax_ce", output="identity", l2=0.2, l2_form="half", l2_biases=True),
    Spec("l2-per-batch", l2=0.5, l2_form="half", l2_batch_mean=True, hidden="identity"),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_losses_match_an_independent_formula(spec):
    case = make_case(CaseSpec((4, 5, 3), 4), spec)
    assert math.isclose(
        float(spec.loss(case.x, case.y, case.W, case.b)), float(_row_major_loss(spec, case)), rel_tol=1e-12
    )


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_autograd_and_finite_differences_agree_for_every_spec(spec):
    case = make_case(CaseSpec((3, 4, 2, 3), 3, regime="large" if spec.hidden.name == "identity" else "normal"), spec)
    ad, fd = autograd_oracle(spec, case), finite_difference_oracle(spec, case)
    for layer in range(3):
        for param in ("W", "b"):
            error = (ad.param(layer, param) - fd.param(layer, param)).abs()
            kinks = fd.kinks(layer, param)
            if kinks is not None:
                error = error.masked_fill(kinks, 0)
            assert bool((error <= 10 * fd.noise(layer, param) + 1e-9).all()), (spec.name, layer, param)
    assert math.isclose(float(ad.loss), float(_row_major_loss(spec, case)), rel_tol=1e-12)


def test_the_penalty_is_differenced_not_assumed():
    """With L2 the gradient grows by exactly 2c·W (and 2c·b with biases), in both oracles."""
    plain = Spec("p", criterion="sse")
    case = make_case(CaseSpec((3, 4, 2), 2), plain)
    for penalised, c, biases in (
        (dataclasses.replace(plain, l2=0.3), 0.3, False),
        (dataclasses.replace(plain, l2=0.3, l2_form="half", l2_biases=True), 0.15, True),
    ):
        for oracle in (autograd_oracle, finite_difference_oracle):
            base, reg = oracle(plain, case), oracle(penalised, case)
            for layer in range(2):
                assert torch.allclose(reg.W[layer] - base.W[layer], 2 * c * case.W[layer], atol=1e-7)
                expected_b = 2 * c * case.b[layer] if biases else torch.zeros_like(case.b[layer])
                assert torch.allclose(reg.b[layer] - base.b[layer], expected_b, atol=1e-7)


def test_targets_are_valid_for_the_loss():
    y = make_case(CaseSpec((3, 4), 6)).y
    bce = valid_targets("bce", y)
    assert set(bce.unique().tolist()) <= {0.0, 1.0}
    onehot = valid_targets("softmax_ce", y)
    assert torch.equal(onehot.sum(0), torch.ones(6, dtype=y.dtype)) and set(onehot.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(onehot.argmax(0), y.argmax(0))
    softmax_case = make_case(CaseSpec((3, 4), 6), Spec(criterion="softmax_ce", output="identity"))
    plain_case = make_case(CaseSpec((3, 4), 6))
    assert torch.equal(softmax_case.x, plain_case.x) and torch.equal(softmax_case.W[0], plain_case.W[0])
    assert all(bool((b != 0).all()) for b in softmax_case.b)  # biases are never all zero


def _hand_backprop(spec: Spec, bug: str | None = None):
    """forward_backward in the canonical layout for a relu/softmax-CE-mean spec, with L2 on W."""

    def forward_backward(x, y, W, b):
        B = x.shape[1]
        a, zs, acts = x, [], [x]
        for l, (W_l, b_l) in enumerate(zip(W, b)):
            z = W_l @ a + b_l
            a = z if l == len(W) - 1 else torch.relu(z)
            zs.append(z), acts.append(a)
        p = torch.softmax(a, dim=0)
        loss = -(y * torch.log(p)).sum() / B + spec.l2 * sum((w * w).sum() for w in W)
        delta = (p - y) / B
        W_grads, b_grads = [None] * len(W), [None] * len(W)
        for l in reversed(range(len(W))):
            if l < len(W) - 1:
                delta = (W[l + 1].T @ delta) * (zs[l] > 0)
            W_grads[l] = delta @ acts[l].T + 2 * spec.l2 * W[l]
            b_grads[l] = delta.sum(1, keepdim=True) * (B if bug == "db-times-N" and l == len(W) - 1 else 1)
            if bug == "l2-on-biases":
                b_grads[l] = b_grads[l] + 2 * spec.l2 * b[l]
        return loss, W_grads, b_grads

    return forward_backward


def test_a_correct_non_seed_implementation_passes_and_classic_bugs_fail_where_they_are():
    spec = Spec(
        "cs231n-like",
        batch=True,
        hidden="relu",
        output="identity",
        criterion="softmax_ce",
        batch_reduction="mean",
        l2=0.05,
    )
    cases = [CaseSpec((4, 5, 3), 1), CaseSpec((4, 5, 3), 4), CaseSpec((3, 4, 4, 2), 3, dtype="float32")]
    assert not [f for r in check_cases(_hand_backprop(spec), cases, spec=spec).results for f in r.failures]
    run = check_cases(_hand_backprop(spec, "db-times-N"), cases, spec=spec)
    blamed = {(f.check, f.layer, f.param) for r in run.results for f in r.failures}
    assert blamed == {("gradient-values", 1, "b"), ("gradient-values", 2, "b")}  # not at B = 1
    assert not run.results[0].failures
    run = check_cases(_hand_backprop(spec, "l2-on-biases"), cases, spec=spec)
    assert {f.param for r in run.results for f in r.failures} == {"b"}
