"""The diagnosis: explanations tested against hand-built bugs, and accuracy on the independent corpus.

The corpus (tests/corpus/buggy) was written apart from the diagnosis code; each file names its
expected diagnosis id. The accuracy table is printed with the test output; the target is 90%,
and no correct implementation may get any failure or diagnosis.
"""

from __future__ import annotations

import io
import json
import pathlib
import runpy

import pytest
import torch
from rich.console import Console

import gradcheck
import reference_impl
from gradcheck.cases import CaseSpec, make_case
from gradcheck.checker import CaseResult, check_case
from gradcheck.diagnosis import DIAGNOSIS_IDS, FIXES
from gradcheck.diagnosis.explanations import (
    bias_candidates,
    choose,
    delta_candidates,
    from_delta,
    named_factors,
    propagate,
    weight_candidates,
)
from gradcheck.diagnosis.facts import CaseFacts
from gradcheck.diagnosis.patterns import fresh_flags, partition
from gradcheck.diagnosis.shapes import explain_shape
from gradcheck.diagnosis.walk import analyse_case, describe_difference
from gradcheck.records import Failure
from gradcheck.report import render_text, to_json
from gradcheck.truth import compute_truth

CORPUS = pathlib.Path(__file__).parent / "corpus"
BUGGY = sorted((CORPUS / "buggy").glob("*.py"))
CORRECT = sorted((CORPUS / "correct").glob("*.py"))
TARGET = 0.90

# The stable ids of docs/diagnosis-ids.md that the seed's contract promised first.
PRODUCT_IDS = [
    "layer0-uses-wrong-input",
    "outer-product-wrong-activation",
    "transposed-weight-gradient",
    "missing-activation-derivative",
    "wrong-activation-derivative",
    "missing-transpose-in-backprop",
    "wrong-weight-in-backprop",
    "sign-flip",
    "scale-factor",
    "mean-instead-of-sum",
    "loss-value",
    "layer-order",
    "swapped-weight-and-bias",
    "missing-layer",
    "bias-not-summed-over-batch",
    "missing-bias-in-forward",
    "wrong-depth-handling",
    "width-one-layer",
    "numerical-instability",
    "single-entry-error",
    "input-mutation",
    "hidden-state",
    "dtype-mismatch",
    "device-mismatch",
    "exception",
    "unclassified",
]


# -- a backprop with pluggable mistakes ----------------------------------------------------------


def backprop(output=None, sigma=None, recursion=None, weight=None, bias=None):
    """The seed's equations, each step replaceable by a bug: returns forward_backward(x, y, W, b)."""
    output = output or (lambda a, y: a - y)
    sigma = sigma or (lambda a, z, l, acts, zs: a * (1 - a))
    recursion = recursion or (lambda W, l, d: W[l + 1].T @ d)
    weight = weight or (lambda d, l, inputs, acts, zs: d @ inputs[l].T)
    bias = bias or (lambda d, l: d.sum(dim=1, keepdim=True))

    def forward_backward(x, y, W, b):
        zs, acts = [], []
        a = x
        for W_l, b_l in zip(W, b):
            zs.append(W_l @ a + b_l)
            a = torch.sigmoid(zs[-1])
            acts.append(a)
        inputs = [x, *acts[:-1]]
        L = len(W) - 1
        loss = 0.5 * ((acts[L] - y) ** 2).sum()
        W_grads, b_grads = [None] * (L + 1), [None] * (L + 1)
        d = output(acts[L], y) * sigma(acts[L], zs[L], L, acts, zs)
        for l in range(L, -1, -1):
            W_grads[l], b_grads[l] = weight(d, l, inputs, acts, zs), bias(d, l)
            if l > 0:
                d = recursion(W, l - 1, d) * sigma(acts[l - 1], zs[l - 1], l - 1, acts, zs)
        return loss, W_grads, b_grads

    return forward_backward


def facts_for(fn, widths, batch=1, dtype="float64", regime="normal"):
    """One case checked against ``fn``, as the diagnosis sees it."""
    case = make_case(CaseSpec(tuple(widths), batch, dtype, "cpu", regime, 0))
    result, _ = check_case(fn, case, compute_truth(gradcheck.SEED, case))
    return CaseFacts(result)


def observed(facts, layer):
    return {p: facts.returned((layer, p)) for p in ("W", "b") if facts.returned((layer, p)) is not None}


def explain_delta(facts, layer, upper=None):
    """The δ-level explanation of ``layer``, given the implementation's δ of the layer above."""
    right = facts.deltas[layer] if upper is None else propagate(facts, layer, upper)
    return choose(
        facts,
        layer,
        delta_candidates(facts, layer, upper, observed(facts, layer)),
        observed(facts, layer),
        from_delta(facts, layer, right),
    )


def explain_local(facts, layer, param):
    got, delta = facts.returned((layer, param)), facts.deltas[layer]
    cands = (weight_candidates if param == "W" else bias_candidates)(facts, layer, delta, got)
    return choose(facts, layer, cands, {param: got}, {param: from_delta(facts, layer, delta)[param]})


# -- the equations the explanations are built from ------------------------------------------------


def test_the_equations_reproduce_the_oracles_quantities():
    facts = facts_for(reference_impl.forward_backward, (4, 3, 2, 3), batch=2)
    for layer in range(facts.depth):
        for param, grad in from_delta(facts, layer, facts.deltas[layer]).items():
            assert torch.allclose(grad, facts.true_grad((layer, param)), rtol=1e-12, atol=1e-15)
        if layer < facts.top:
            assert torch.allclose(
                propagate(facts, layer, facts.deltas[layer + 1]), facts.deltas[layer], rtol=1e-12, atol=1e-15
            )


def test_a_correct_gradient_has_no_explanation():
    facts = facts_for(reference_impl.forward_backward, (4, 4, 4, 4))
    assert explain_delta(facts, facts.top) is None
    assert explain_delta(facts, 1, facts.deltas[2]) is None
    assert explain_local(facts, 1, "W") is None and explain_local(facts, 1, "b") is None


# -- δ-level explanations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bug,expected,words",
    [
        (
            dict(sigma=lambda a, z, l, acts, zs: torch.ones_like(a) if l == len(acts) - 1 else a * (1 - a)),
            "missing-activation-derivative",
            "leaves out the σ′",
        ),
        (dict(sigma=lambda a, z, l, acts, zs: z * (1 - z)), "wrong-activation-derivative", "pre-activation"),
        (dict(sigma=lambda a, z, l, acts, zs: 1 - a**2), "wrong-activation-derivative", "tanh"),
        (dict(output=lambda a, y: 2 * (a - y)), "scale-factor", "2 times"),
        (dict(output=lambda a, y: y - a), "sign-flip", "opposite sign"),
    ],
    ids=["sigma-missing", "sigma-of-z", "tanh-derivative", "factor-2", "sign"],
)
def test_a_wrong_output_delta_is_named(bug, expected, words):
    facts = facts_for(backprop(**bug), (3, 4, 2))
    found = explain_delta(facts, facts.top)
    assert found is not None and found.id == expected and words in found.detail
    assert found.confidence >= 0.9


@pytest.mark.parametrize(
    "bug,expected,words",
    [
        (
            dict(sigma=lambda a, z, l, acts, zs: torch.ones_like(a) if l < len(acts) - 1 else a * (1 - a)),
            "missing-activation-derivative",
            "leaves out",
        ),
        (dict(recursion=lambda W, l, d: W[l + 1] @ d), "missing-transpose-in-backprop", "instead of (W⁽²⁾)ᵀ δ⁽²⁾"),
        (dict(recursion=lambda W, l, d: W[l].T @ d), "wrong-weight-in-backprop", "(W⁽¹⁾)ᵀ instead of (W⁽²⁾)ᵀ"),
        (
            dict(sigma=lambda a, z, l, acts, zs: acts[-1] * (1 - acts[-1])),
            "wrong-activation-derivative",
            "σ′ of layer 2",
        ),
    ],
    ids=["sigma-missing", "no-transpose", "wrong-weight", "output-sigma-reused"],
)
def test_a_wrong_hidden_delta_is_named(bug, expected, words):
    facts = facts_for(backprop(**bug), (4, 4, 4, 4) if "sigma" not in bug else (4, 4, 4, 1))
    found = explain_delta(facts, 1, facts.deltas[2])  # layer 2 is right, layer 1 is the first wrong one
    assert found is not None and found.id == expected and words in found.detail, found


def test_mean_over_the_batch_is_told_from_a_constant():
    facts = facts_for(backprop(output=lambda a, y: (a - y) / a.shape[1]), (3, 4, 2), batch=3)
    found = explain_delta(facts, facts.top)
    assert found.id == "mean-instead-of-sum" and found.evidence["factor"] == pytest.approx(1 / 3)
    assert [f[1] for f in named_factors(facts) if f[0] == pytest.approx(1 / 3)] == ["mean-instead-of-sum"]


def test_an_unknown_constant_is_fitted_but_only_where_it_can_be_checked():
    facts = facts_for(backprop(output=lambda a, y: 0.37 * (a - y)), (3, 4, 2))
    found = explain_delta(facts, facts.top)
    assert found.id == "scale-factor" and found.evidence["factor"] == pytest.approx(0.37)
    assert found.confidence < 0.9  # a fitted number is weaker evidence than a formula
    # One scalar entry: any factor "fits", so a fitted factor explains nothing there.
    scalar = facts_for(backprop(weight=lambda d, l, inputs, acts, zs: 1.3 * d @ inputs[l].T), (1, 1))
    assert explain_local(scalar, 0, "W") is None


# -- local explanations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "weight,widths,layer,expected,words",
    [
        (
            lambda d, l, inputs, acts, zs: (d @ inputs[l].T).T,
            (4, 4, 4),
            1,
            "transposed-weight-gradient",
            "returned transposed",
        ),
        (
            lambda d, l, inputs, acts, zs: (inputs[l] @ d.T).reshape(d.shape[0], inputs[l].shape[0]),
            (5, 3, 2),
            1,
            "transposed-weight-gradient",
            "reshaped",
        ),
        (
            lambda d, l, inputs, acts, zs: d @ (acts[-1] if l == 0 else inputs[l]).T,
            (2, 3, 2),
            0,
            "layer0-uses-wrong-input",
            "a[-1]",
        ),
        (
            lambda d, l, inputs, acts, zs: d @ (zs[l - 1] if l else inputs[l]).T,
            (3, 4, 2),
            1,
            "outer-product-wrong-activation",
            "z⁽⁰⁾",
        ),
        (
            lambda d, l, inputs, acts, zs: torch.zeros_like(d @ inputs[l].T) if l == 0 else d @ inputs[l].T,
            (3, 4, 2),
            0,
            "missing-layer",
            "never computed",
        ),
    ],
    ids=["transposed", "transposed-reshaped", "seed-a[-1]", "pre-activation", "zeros"],
)
def test_a_wrong_weight_gradient_is_named(weight, widths, layer, expected, words):
    facts = facts_for(backprop(weight=weight), widths)
    found = explain_local(facts, layer, "W")
    assert found is not None and found.id == expected and words in found.detail, found


def test_one_wrong_entry_is_single_entry_error_and_a_random_gradient_is_nothing():
    def one_entry(d, l, inputs, acts, zs):
        g = d @ inputs[l].T
        if l == 1:
            g[0, 1] *= 1.001
        return g

    facts = facts_for(backprop(weight=one_entry), (3, 4, 2))
    found = explain_local(facts, 1, "W")
    assert found.id == "single-entry-error" and found.evidence["worst_index"] == [0, 1]
    noise = facts_for(
        backprop(weight=lambda d, l, inputs, acts, zs: torch.randn(d.shape[0], inputs[l].shape[0], dtype=d.dtype)),
        (3, 4, 2),
    )
    assert explain_local(noise, 1, "W") is None


@pytest.mark.parametrize(
    "bias,expected",
    [
        (lambda d, l: d[:, :1], "bias-not-summed-over-batch"),
        (lambda d, l: d.mean(dim=1, keepdim=True), "mean-instead-of-sum"),
        (lambda d, l: -d.sum(dim=1, keepdim=True), "sign-flip"),
    ],
    ids=["first-column", "mean", "negated"],
)
def test_a_wrong_bias_gradient_is_named(bias, expected):
    facts = facts_for(backprop(bias=bias), (3, 4, 2), batch=3)
    assert explain_local(facts, 1, "b").id == expected


def test_gradients_in_the_wrong_slots_are_named():
    def swapped(x, y, W, b):
        loss, W_grads, b_grads = reference_impl.forward_backward(x, y, W, b)
        return loss, b_grads, W_grads

    def reversed_(x, y, W, b):
        loss, W_grads, b_grads = reference_impl.forward_backward(x, y, W, b)
        return loss, W_grads[::-1], b_grads[::-1]

    assert explain_local(facts_for(swapped, (1, 1, 1)), 1, "W").id == "swapped-weight-and-bias"
    assert explain_local(facts_for(reversed_, (4, 4, 4, 4)), 2, "W").id == "layer-order"


# -- shapes -------------------------------------------------------------------------------------------


def shape_facts(widths, shapes, batch=1):
    """A case whose returned gradients had ``shapes`` ({(layer, param): shape}); the rest right."""
    result = CaseResult(CaseSpec(tuple(widths), batch))
    for (layer, param), shape in shapes.items():
        result.failures.append(Failure("gradient-shapes", "shape", layer=layer, param=param, got=list(shape)))
    for layer in range(len(widths) - 1):
        for param, shape in (("W", (widths[layer + 1], widths[layer])), ("b", (widths[layer + 1], 1))):
            if (layer, param) not in shapes:
                result.returned[(layer, param)] = torch.zeros(shape, dtype=torch.float64)
    return CaseFacts(result)


@pytest.mark.parametrize(
    "widths,shapes,key,expected,words",
    [
        ((7, 5, 3, 1), {(0, "W"): [5, 1]}, (0, "W"), "layer0-uses-wrong-input", "a[-1]"),
        ((7, 5, 3, 1), {(1, "W"): [3, 3]}, (1, "W"), "outer-product-wrong-activation", "own output"),
        ((7, 5, 3, 1), {(1, "W"): [5, 3]}, (1, "W"), "transposed-weight-gradient", "transpose"),
        (
            (3, 4, 2),
            {(0, "W"): [4, 1], (0, "b"): [4, 3], (1, "W"): [2, 1], (1, "b"): [2, 4]},
            (0, "b"),
            "swapped-weight-and-bias",
            "swapped",
        ),
        (
            (3, 4, 2),
            {(0, "W"): [2, 4], (1, "W"): [4, 3], (0, "b"): [2, 1], (1, "b"): [4, 1]},
            (1, "W"),
            "layer-order",
            "never reversed",
        ),
        ((7, 5, 3, 1), {(2, "b"): [1]}, (2, "b"), "width-one-layer", "width-1"),
        ((3, 4, 2), {(1, "b"): [2, 5]}, (1, "b"), "bias-not-summed-over-batch", "batch axis"),
        ((3, 4, 2), {(1, "W"): [2, 7]}, (1, "W"), "outer-product-wrong-activation", "wrong width"),
        ((3, 4, 2), {(1, "b"): [3, 3]}, (1, "b"), "unclassified", "shape [3, 3]"),
    ],
    ids=[
        "seed",
        "own-activation",
        "transposed",
        "swapped",
        "reversed",
        "squeezed",
        "batch-axis",
        "odd-width",
        "nothing",
    ],
)
def test_a_wrong_shape_is_named_from_the_shapes(widths, shapes, key, expected, words):
    found = explain_shape(
        shape_facts(widths, shapes, batch=5 if expected == "bias-not-summed-over-batch" else 1), key, shapes[key]
    )
    assert found.id == expected and words in found.detail, found


def test_a_squeezed_bias_of_a_wide_layer_is_not_blamed_on_width_one():
    found = explain_shape(shape_facts((3, 4, 2), {(1, "b"): [2]}), (1, "b"), [2])
    assert found.id == "unclassified" and "keepdim" in found.detail


# -- the walk: root first, consequences marked ----------------------------------------------------------


def test_a_wrong_output_delta_is_the_root_and_the_layers_below_inherit_it():
    facts = facts_for(
        backprop(sigma=lambda a, z, l, acts, zs: torch.ones_like(a) if l == len(acts) - 1 else a * (1 - a)),
        (5, 4, 3, 2),
    )
    found = analyse_case(facts)
    assert found[(2, "W")].status == "root" and found[(2, "W")].explanation.id == "missing-activation-derivative"
    assert found[(2, "b")].status == "consequence" and found[(2, "b")].root == (2, "W")
    assert all(found[(l, p)].status == "consequence" and found[(l, p)].root == (2, "W") for l in (0, 1) for p in "Wb")


def test_a_local_error_leaves_the_layers_below_alone():
    facts = facts_for(
        backprop(weight=lambda d, l, inputs, acts, zs: 2 * d @ inputs[l].T if l == 1 else d @ inputs[l].T), (5, 4, 3, 2)
    )
    assert set(analyse_case(facts)) == {(1, "W")}
    assert analyse_case(facts)[(1, "W")].explanation.evidence["factor"] == 2.0


def test_a_mistake_repeated_in_every_hidden_layer_is_a_root_at_each():
    facts = facts_for(
        backprop(sigma=lambda a, z, l, acts, zs: torch.ones_like(a) if l < len(acts) - 1 else a * (1 - a)), (5, 4, 3, 2)
    )
    found = analyse_case(facts)
    assert {k: f.status for k, f in found.items() if k[1] == "W"} == {(1, "W"): "root", (0, "W"): "root"}
    assert {f.explanation.id for k, f in found.items() if f.status == "root"} == {"missing-activation-derivative"}


def test_an_unrecognised_output_error_is_unexplained_but_its_consequences_are_still_found():
    odd = torch.tensor([[1.7], [-0.4]], dtype=torch.float64)
    facts = facts_for(backprop(output=lambda a, y: (a - y) * odd.to(a.dtype)), (3, 4, 2))
    found = analyse_case(facts)
    top = found[(1, "W")]
    assert top.status == "unexplained" and {"norm_ratio", "cosine", "pattern"} <= set(top.evidence)
    assert found[(0, "W")].status == "consequence" and found[(0, "W")].root == (1, "W")


def test_describe_difference_says_where_the_errors_are():
    true = torch.arange(1.0, 7.0, dtype=torch.float64).reshape(2, 3)
    row = true.clone()
    row[1] *= 3
    assert describe_difference(row, true)["pattern"] == "only row 1 off"
    assert describe_difference(-true, true)["cosine"] == pytest.approx(-1.0)
    assert describe_difference(2 * true, true)["norm_ratio"] == pytest.approx(2.0)


# -- patterns across cases ----------------------------------------------------------------------------


def test_partitions_need_two_cases_on_each_side_and_no_overlap():
    results = [CaseResult(CaseSpec(w)) for w in [(3, 1), (4, 3), (3, 4, 2), (2, 3, 4), (7, 5, 3, 1)]]
    depth = lambda c: c.depth  # noqa: E731
    assert partition(results, lambda r: r.case.depth == 1, depth) == ({1}, {2, 3})
    assert partition(results, lambda r: r.case.widths == (3, 1), depth) is None  # one case is no pattern
    assert partition(results, lambda r: r.case.widths in ((3, 1), (3, 4, 2)), depth) is None  # depth 1 on both sides
    assert fresh_flags([*results, CaseResult(CaseSpec((3, 1)))]) == [True] * 5 + [False]


# -- whole reports -----------------------------------------------------------------------------------


def test_the_seed_bug_is_named_with_a_hint_in_the_json_and_the_terminal():
    report = gradcheck.check(str(CORPUS / "buggy" / "seed_bug.py"), max_examples=0)
    first = report.diagnosis_of(report.failures[0])
    assert first.id == "layer0-uses-wrong-input" and first.confidence >= 0.9
    assert "a[-1]" in first.hint and "∇W⁽⁰⁾ = δ⁽⁰⁾ xᵀ" in first.hint
    payload = json.loads(json.dumps(to_json(report)))
    assert (
        payload["failures"][0]["diagnosis"] == "layer0-uses-wrong-input"
        and payload["failures"][0]["hint"] == first.hint
    )
    console = Console(file=io.StringIO(), width=200)
    render_text(report, console)
    assert "likely bug: layer0-uses-wrong-input" in console.file.getvalue()


def test_a_scale_factor_hint_states_the_factor_and_lower_layers_are_consequences():
    report = gradcheck.check(backprop(output=lambda a, y: 2 * (a - y)), cases=[CaseSpec((5, 4, 3, 2))])
    root, *rest = [report.diagnosis_of(f) for f in report.failures]
    assert root.id == "scale-factor" and "2 times" in root.hint and root.evidence["factor"] == 2.0
    assert rest and all(d.consequence_of == "W[2]" for d in rest)
    assert all("W[2]" in d.hint for d in rest)
    assert all(f["evidence"]["consequence_of"] == "W[2]" for f in to_json(report)["failures"][1:])  # the JSON keeps it


def test_an_exception_hint_quotes_the_implementations_line():
    def raises(x, y, W, b):
        raise ValueError("no activation given")

    report = gradcheck.check(raises, cases=[CaseSpec((3, 2))])
    [failure] = [report.diagnosis_of(f) for f in report.failures]
    assert failure.id == "exception" and "ValueError: no activation given" in failure.hint
    assert "raise ValueError" in failure.hint  # the implementation's own line


def test_garbage_gradients_are_unclassified_with_evidence():
    def garbage(x, y, W, b):
        loss, W_grads, b_grads = reference_impl.forward_backward(x, y, W, b)
        gen = torch.Generator().manual_seed(0)
        return (
            loss,
            [torch.randn(g.shape, generator=gen, dtype=g.dtype) for g in W_grads],
            [torch.randn(g.shape, generator=gen, dtype=g.dtype) for g in b_grads],
        )

    report = gradcheck.check(garbage, cases=[CaseSpec((4, 3, 2)), CaseSpec((3, 4, 3))])
    roots = [d for d in report.diagnoses.values() if d.consequence_of is None]
    assert roots and all(d.id == "unclassified" and d.confidence <= 0.5 for d in roots)
    assert {"cosine", "norm_ratio", "pattern"} <= set(roots[0].evidence)


def test_every_promised_id_has_a_fix_that_cites_what_to_do():
    assert set(PRODUCT_IDS) <= set(DIAGNOSIS_IDS)
    assert all(FIXES[i].strip() for i in DIAGNOSIS_IDS)
    for i in (
        "missing-activation-derivative",
        "wrong-activation-derivative",
        "missing-transpose-in-backprop",
        "wrong-weight-in-backprop",
        "scale-factor",
    ):
        assert "δ⁽" in FIXES[i]


# -- the independent corpus -----------------------------------------------------------------------------


def _root(report):
    """The first failure that is a bug of its own, with its diagnosis: (failure, diagnosis)."""
    pairs = ((f, report.diagnosis_of(f)) for f in report.failures)
    return next(((f, d) for f, d in pairs if d is not None and d.consequence_of is None), (None, None))


def test_corpus_accuracy(capsys):
    rows, skipped = [], []
    for path in BUGGY:
        want = runpy.run_path(str(path))["EXPECTED"]
        if "cuda" in want["needs"] and not torch.cuda.is_available():
            skipped.append(path.stem)
            continue
        report = gradcheck.check(str(path), batch="batch" in want["needs"])
        _, root = _root(report)
        assert all("diagnosis_error" not in d.evidence for d in report.diagnoses.values()), path.stem
        rows.append((path.stem, want["diagnosis"], root.id if root else None, root.confidence if root else None))
    right = sum(expected == got for _, expected, got, _ in rows)
    with capsys.disabled():
        print(
            f"\n\ndiagnosis accuracy on tests/corpus/buggy: {right}/{len(rows)} = {right / len(rows):.0%}"
            f" (target {TARGET:.0%})"
        )
        print(f"  {'file':34} {'expected':32} {'got':32} confidence")
        for name, expected, got, confidence in rows:
            mark = " " if expected == got else "✗"
            print(f"{mark} {name:34} {expected:32} {got!s:32} {confidence}")
        if skipped:
            print(f"  skipped (need a CUDA GPU): {', '.join(skipped)}")
    assert len(rows) >= 30
    assert right / len(rows) >= TARGET


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.stem)
def test_correct_implementations_get_no_failure_and_no_diagnosis(path):
    single_only = runpy.run_path(str(path)).get("SINGLE_INSTANCE_ONLY", False)
    for batch in (False,) if single_only else (False, True):
        report = gradcheck.check(str(path), batch=batch, max_examples=0)
        assert report.failures == [] and report.passed
        assert report.diagnoses == {}


def test_nan_met_again_is_not_hidden_state():
    def nan(x, y, W, b):
        loss, W_grads, b_grads = reference_impl.forward_backward(x, y, W, b)
        return (
            loss,
            [torch.full_like(g, float("nan")) for g in W_grads],
            [torch.full_like(g, float("nan")) for g in b_grads],
        )

    report = gradcheck.check(nan, cases=[CaseSpec((3, 2)), CaseSpec((2, 2))])
    assert "hidden-state" not in {f.check for f in report.failures}  # NaN again is the same answer
    assert "hidden-state" not in {d.id for d in report.diagnoses.values()}
    root, diagnosis = _root(report)
    assert (
        root.check == "finite" and diagnosis.id == "unclassified" and "no overflow" in diagnosis.hint
    )  # |z| is small here


def test_a_split_by_depth_is_depth_handling_only_when_it_cannot_be_a_hidden_bug():
    from gradcheck.diagnosis import depth_handling

    assert depth_handling({1}, {2, 3, 4, 5})  # a broken one-layer path
    assert depth_handling({1, 2, 4, 5}, {3})  # a hard-coded depth
    assert not depth_handling({2, 3, 4, 5}, {1})  # reversed lists, σ′ missing in hidden layers: invisible at depth 1
    assert not depth_handling({3, 4, 5}, {1, 2})


def test_device_and_dtype_failures_are_named_from_the_failure_itself():
    from gradcheck.checker import Run
    from gradcheck.diagnosis import diagnose
    from gradcheck.report import build_report

    case = CaseSpec((3, 2), device="cuda")
    result = CaseResult(case)
    result.fail("gradient-devices", "device", layer=0, param="W", expected="cuda:0", got="cpu")
    result.fail("gradient-dtypes", "dtype", layer=0, param="b", expected="torch.float32", got="torch.float64")
    report = build_report("synthetic", Run([result], [], 0.0), seed=0)
    before = list(report.failures)
    found = diagnose(report)
    assert {key[0]: d.id for key, d in found.items()} == {
        "gradient-devices": "device-mismatch",
        "gradient-dtypes": "dtype-mismatch",
    }
    assert all(d.hint and 0 <= d.confidence <= 1 for d in found.values())
    assert report.failures == before and report.diagnoses == {}  # the report itself is left as it was


def test_a_forward_pass_without_bias_is_the_root_and_its_gradients_follow_from_it():
    def no_bias(x, y, W, b):
        return reference_impl.forward_backward(x, y, W, [torch.zeros_like(c) for c in b])

    report = gradcheck.check(no_bias, cases=[CaseSpec((4, 3, 2)), CaseSpec((3, 2))])
    root, diagnosis = _root(report)
    assert root.check == "loss-value" and diagnosis.id == "missing-bias-in-forward"
    gradients = [report.diagnosis_of(f) for f in report.failures if f.check == "gradient-values"]
    assert gradients and all(d.consequence_of == "loss" for d in gradients)


def test_a_shape_error_that_the_value_bug_explains_is_not_a_second_bug():
    no_transpose = backprop(recursion=lambda W, l, d: W[l + 1] @ d)  # raises unless the layers are square
    report = gradcheck.check(no_transpose, cases=[CaseSpec((4, 4, 4)), CaseSpec((3, 4, 2)), CaseSpec((2, 3, 4))])
    [call] = [report.diagnosis_of(f) for f in report.failures if f.check == "call"]
    assert call.id == "missing-transpose-in-backprop" and call.consequence_of == "W[0]"
    root, diagnosis = _root(report)
    assert root.check == "gradient-values" and diagnosis.id == "missing-transpose-in-backprop"


def test_failures_only_in_calls_that_repeat_shapes_are_blamed_on_state():
    cache = {}

    def stale(x, y, W, b):  # remembers the first result for each shape
        key = tuple(w.shape for w in W)
        if key not in cache:
            cache[key] = reference_impl.forward_backward(x, y, W, b)
        return cache[key]

    cases = [CaseSpec((3, 2)), CaseSpec((4, 3, 2)), CaseSpec((3, 2), seed=1), CaseSpec((4, 3, 2), seed=1)]
    report = gradcheck.check(stale, cases=cases)
    assert _root(report)[1].id == "hidden-state"
    assert all(report.diagnosis_of(f).id == "hidden-state" for f in report.failures)


def test_an_unfinished_template_is_named_as_such():
    def blank(x, y, W, b):
        return None, [None for _ in W], [None for _ in b]

    def loss_left_blank(x, y, W, b):
        _, W_grads, b_grads = reference_impl.forward_backward(x, y, W, b)
        return None, W_grads, b_grads

    for template in (blank, loss_left_blank):
        _, root = _root(gradcheck.check(template, cases=[CaseSpec((3, 2)), CaseSpec((2, 2, 1))]))
        assert root.id == "unfinished-template", (template.__name__, root.id)

    # A single missing layer is not an unfinished template.
    def one_missing(x, y, W, b):
        loss, W_grads, b_grads = reference_impl.forward_backward(x, y, W, b)
        return loss, [None, *W_grads[1:]], b_grads

    assert _root(gradcheck.check(one_missing, cases=[CaseSpec((3, 2, 2))]))[1].id == "missing-layer"
