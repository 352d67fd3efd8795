"""Adapters: implementations in the shapes courses use are checked, and blamed at the right place.

The fixtures in tests/corpus/shapes/ are written in the style of those courses (CS231n
TwoLayerNet, Nielsen's network.py, deeplearning.ai's model, plain numpy), each correct and with
the classic bugs the survey of real code found.
"""

import itertools

import numpy as np
import pytest
import torch
from helpers import TWO_LAYER, load

from gradcheck.adapters import ADAPTERS, Adapter, get_adapter, wrap
from gradcheck.cases import CaseSpec
from gradcheck.checker import check_cases
from gradcheck.presets import get_preset
from gradcheck.records import describe_failure
from gradcheck.spec import SEED


def blamed(run):
    return {(f.check, f.layer, f.param) for r in run.results for f in r.failures}


def values_blamed(run):
    return {(f.layer, f.param) for r in run.results for f in r.failures if f.check == "gradient-values"}


def ratios(run, layer, param):
    """got / expected per entry, over every case where the tensor was returned."""
    found = []
    for r in run.results:
        got = r.returned.get((layer, param))
        if got is not None:
            expected = r.truth.autograd.param(layer, param)
            keep = expected.abs() > 1e-12
            found.append(got[keep] / expected[keep])
    return torch.cat(found)


DEEP = [
    CaseSpec((3, 4, 2), 1),
    CaseSpec((4, 5, 3, 2), 3),
    CaseSpec((2, 3, 3, 1), 2, dtype="float32"),
    CaseSpec((3, 1, 4, 2), 1),
]


# -- CS231n: object with a params dict, row-major, W [in, out], bias [out], class indices ---------

CS231N = get_preset("cs231n-two-layer")


def cs231n(cls_name):
    return wrap(getattr(load("cs231n_two_layer"), cls_name), "cs231n", CS231N)


def test_cs231n_correct_passes():
    run = check_cases(cs231n("TwoLayerNet"), TWO_LAYER, spec=CS231N)
    assert blamed(run) == set()
    assert all("gradient-values" in r.evaluated for r in run.results)


def test_cs231n_db2_n_times_too_large_is_caught_but_exact_at_batch_1():
    run = check_cases(cs231n("Db2TimesN"), TWO_LAYER, spec=CS231N)
    assert values_blamed(run) == {(1, "b")}
    assert run.results[0].failures == []  # B = 1
    b_case = run.results[1]  # B = 5
    assert torch.allclose(
        b_case.returned[(1, "b")] / b_case.truth.autograd.b[1], torch.full((3, 1), 5.0, dtype=torch.float64)
    )


def test_cs231n_l2_gradient_added_to_biases_is_caught_at_both_biases():
    run = check_cases(cs231n("RegOnBiases"), TWO_LAYER, spec=CS231N)
    assert values_blamed(run) == {(0, "b"), (1, "b")}


def test_cs231n_every_gradient_one_over_n():
    run = check_cases(cs231n("AllOverN"), TWO_LAYER, spec=CS231N)
    assert values_blamed(run) == {(0, "W"), (0, "b"), (1, "W"), (1, "b")}
    assert run.results[0].failures == []  # exact at N = 1


def test_cs231n_other_regularisation_fails_the_spec():
    run = check_cases(cs231n("HalfRegWithBiases"), TWO_LAYER, spec=CS231N)
    assert ("loss-value", None, "loss") in blamed(run)
    assert {p for _, p in values_blamed(run)} == {"W", "b"}


def test_cs231n_unfinished_template_is_reported_as_returning_none():
    run = check_cases(cs231n("Unfinished"), TWO_LAYER[:1], spec=CS231N)
    failures = run.results[0].failures
    assert any(f.check == "loss-value" and f.kind == "type" and "NoneType" in describe_failure(f) for f in failures)
    assert any(f.check == "gradient-types" and f.kind == "missing" for f in failures)


# -- Nielsen: Network(sizes).backprop(x, y) -> (nabla_b, nabla_w), per example -------------------

NIELSEN = get_preset("nielsen")


def test_nielsen_correct_passes_with_batches_summed_per_example():
    net = load("nielsen_network").Network
    run = check_cases(wrap(net, "nielsen", NIELSEN), DEEP, spec=NIELSEN)
    assert blamed(run) == set()


def test_nielsen_derivative_of_the_output_is_blamed_on_hidden_layers_only():
    net = load("nielsen_network").PrimeOfOutput
    run = check_cases(wrap(net, "nielsen", NIELSEN), DEEP, spec=NIELSEN)
    wrong = values_blamed(run)
    assert wrong and all(layer < 2 for layer, _ in wrong)
    assert (0, "W") in wrong and (0, "b") in wrong
    assert not any(r.failures for r in run.results if r.case.depth == 1)


# -- numpy in the canonical layout -----------------------------------------------------------

SEED_BATCH = get_preset("seed", batch=True)


def test_numpy_correct_passes_on_every_builtin_shape():
    from gradcheck.cases import builtin_cases

    fb = load("numpy_forward_backward").forward_backward
    run = check_cases(wrap(fb, "numpy"), builtin_cases(batch=True)[::3], spec=SEED_BATCH)
    assert blamed(run) == set()


def test_numpy_every_gradient_one_over_n_is_caught_with_the_ratio():
    fb = load("numpy_forward_backward").forward_backward_all_over_n
    run = check_cases(wrap(fb, "numpy"), DEEP, spec=SEED_BATCH)
    assert values_blamed(run) == {(l, p) for l in range(3) for p in "Wb"}
    assert run.results[0].failures == [] and run.results[3].failures == []  # B = 1
    assert torch.allclose(
        ratios(check_cases(wrap(fb, "numpy"), [DEEP[1]], spec=SEED_BATCH), 0, "W"),
        torch.tensor(1 / 3, dtype=torch.float64),
    )


def test_numpy_non_arrays_pass_through_to_the_type_checks():
    fb = load("numpy_forward_backward").forward_backward_returns_lists_of_lists
    run = check_cases(wrap(fb, "numpy"), DEEP[:1], spec=SEED_BATCH)
    assert {(c, p) for c, _, p in blamed(run)} == {("gradient-types", "W")}


def test_numpy_in_place_changes_to_inputs_are_still_seen():
    fb = load("numpy_forward_backward").forward_backward

    def mutating(x, y, W, b):
        result = fb(x, y, W, b)
        W[0] *= 2.0
        return result

    run = check_cases(wrap(mutating, "numpy"), DEEP[:1], spec=SEED_BATCH)
    assert ("input-mutation", 0, "W") in blamed(run)


# -- deeplearning.ai: f(X, Y, parameters) -> (cost, grads keyed dW1, db1, ...) --------------------

DLAI = get_preset("deeplearning-ai")


def test_deeplearning_ai_correct_passes():
    run = check_cases(wrap(load("deeplearning_ai_model").model, "deeplearning-ai", DLAI), DEEP, spec=DLAI)
    assert blamed(run) == set()


def test_deeplearning_ai_planted_bugs_are_exactly_2x_and_4x_where_planted():
    fn = wrap(load("deeplearning_ai_model").model_with_planted_bugs, "deeplearning-ai", DLAI)
    run = check_cases(fn, DEEP, spec=DLAI)
    assert values_blamed(run) == {(1, "W"), (0, "b")}
    assert torch.allclose(ratios(run, 1, "W"), torch.tensor(2.0, dtype=torch.float64))
    assert torch.allclose(ratios(run, 0, "b"), torch.tensor(4.0, dtype=torch.float64))


# -- other configurations: row-major torch, a flat parameter vector ----------------------------------


def row_major_torch(x, y, W, b):
    """Row-major torch: X [B, in], W [in, out], b [out]; sigmoid; 1/2 sum of squares."""
    acts = [x]
    for W_l, b_l in zip(W, b):
        acts.append(torch.sigmoid(acts[-1] @ W_l + b_l))
    a = acts[-1]
    delta = (a - y) * a * (1 - a)
    W_grads, b_grads = [None] * len(W), [None] * len(W)
    for l in reversed(range(len(W))):
        if l < len(W) - 1:
            delta = (delta @ W[l + 1].T) * acts[l + 1] * (1 - acts[l + 1])
        W_grads[l] = acts[l].T @ delta
        b_grads[l] = delta.sum(0)
    return 0.5 * ((a - y) ** 2).sum(), W_grads, b_grads


def test_row_major_torch_passes_and_a_transposed_gradient_is_a_shape_failure():
    run = check_cases(wrap(row_major_torch, "row-major"), DEEP, spec=SEED_BATCH)
    assert blamed(run) == set()

    def transposed(x, y, W, b):
        loss, W_grads, b_grads = row_major_torch(x, y, W, b)
        return loss, [g.T for g in W_grads], b_grads

    run = check_cases(wrap(transposed, "row-major"), DEEP[1:2], spec=SEED_BATCH)
    assert {(c, p) for c, _, p in blamed(run)} == {("gradient-shapes", "W")}


def test_flat_parameter_vector():
    fb = load("numpy_forward_backward").forward_backward
    adapter = Adapter("flat", numpy=True, args=("theta", "x", "y"), returns=("loss", "theta"))

    def cost_function(theta, x, y, widths=None):
        n0 = x.shape[0]
        W, b, at = [], [], 0
        sizes = [n0, *cost_function.widths[1:]]
        for n_in, n_out in itertools.pairwise(sizes):
            W.append(theta[at : at + n_in * n_out].reshape(n_out, n_in))
            at += n_in * n_out
            b.append(theta[at : at + n_out].reshape(n_out, 1))
            at += n_out
        loss, W_grads, b_grads = fb(x, y, W, b)
        return loss, np.concatenate([g.ravel() for pair in zip(W_grads, b_grads) for g in pair])

    for case in DEEP:
        cost_function.widths = list(case.widths)
        run = check_cases(wrap(cost_function, adapter), [case], spec=SEED_BATCH)
        assert blamed(run) == set(), case


def test_adapter_configuration_errors_say_why():
    with pytest.raises(ValueError, match="layout='rows'"):
        Adapter(layout="rows")
    with pytest.raises(ValueError, match="'grad'"):
        Adapter(returns=("loss", "grad"))
    with pytest.raises(ValueError, match="method="):
        Adapter(instance="bare")
    with pytest.raises(ValueError, match="not one of"):
        get_adapter("keras")


def test_the_canonical_adapter_changes_nothing():
    import reference_impl

    run = check_cases(wrap(reference_impl.forward_backward, Adapter()), DEEP, spec=SEED_BATCH)
    assert blamed(run) == set()
    assert SEED.batch is False


@pytest.mark.parametrize("name", ["canonical", "row-major"])
def test_only_the_canonical_adapter_hands_the_very_tensors_through(name):
    x, y = torch.randn(3, 2), torch.randn(2, 2)
    W, b = [torch.randn(4, 3), torch.randn(2, 4)], [torch.randn(4, 1), torch.randn(2, 1)]
    returned = (torch.tensor(0.5), [torch.ones(4, 3), torch.ones(2, 4)], [torch.ones(4, 1), torch.ones(2, 1)])
    seen = []

    def record(*args):
        seen.append(args)
        return returned

    loss, W_grads, b_grads = wrap(record, ADAPTERS[name])(x, y, W, b)
    ((x_in, y_in, W_in, b_in),) = seen
    given = [
        x_in is x,
        y_in is y,
        *(p is q for p, q in zip(W_in, W, strict=True)),
        *(p is q for p, q in zip(b_in, b, strict=True)),
    ]
    back = [
        loss is returned[0],
        *(g is h for g, h in zip([*W_grads, *b_grads], [*returned[1], *returned[2]], strict=True)),
    ]
    if name == "canonical":
        assert all(given) and all(back)
    else:  # rows: x [B, n_0], W [in, out], b [out]; the gradients turned back into the canonical layout
        assert not any(given) and torch.equal(x_in, x.T) and torch.equal(W_in[0], W[0].T) and b_in[0].shape == (4,)
        assert [tuple(g.shape) for g in W_grads] == [(3, 4), (4, 2)] and not all(back)
