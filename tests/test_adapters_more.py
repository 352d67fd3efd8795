"""More interface shapes (issue 6): no biases, biases folded into W, gradients left in attributes,
gradients from one SGD step, and deeplearning.ai's two-function forward / backward.

Each fixture in tests/corpus/shapes/ is written for these tests, correct and with one classic
bug; the correct one passes ``gradcheck.check`` and the buggy one is blamed where the bug is.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

import gradcheck
from gradcheck.adapters import Adapter, get_adapter
from gradcheck.presets import get_preset

SHAPES = Path(__file__).resolve().parent / "corpus" / "shapes"
BATCH = get_preset("seed", batch=True)


def check(file: str, function: str, spec, adapter: Adapter):
    return gradcheck.check(
        str(SHAPES / file), function=function, spec=spec, adapter=adapter, max_examples=0, devices=("cpu",)
    )


def blamed(report) -> set[tuple[int | None, str | None]]:
    return {(f.layer, f.param) for f in report.failures}


# -- no biases: cases draw b = 0, the spec's b gradients stand in ---------------------------------

NO_BIAS = Adapter("no-bias", numpy=True, bias="none", args=("x", "y", "W"), returns=("loss", "W"))
NO_BIAS_SPEC = get_preset("seed", batch=True, biases=False)


def test_network_without_biases_passes():
    report = check("no_bias_network.py", "forward_backward", NO_BIAS_SPEC, NO_BIAS)
    assert report.failures == [] and report.run.results


def test_network_without_biases_is_blamed_on_hidden_weights_only():
    report = check("no_bias_network.py", "forward_backward_prime_of_output", NO_BIAS_SPEC, NO_BIAS)
    wrong = blamed(report)
    assert wrong and all(param == "W" for _, param in wrong)
    deepest = max(r.case.depth for r in report.run.results)
    assert (deepest - 1, "W") not in wrong and (0, "W") in wrong


def test_network_without_biases_passes_in_self_mode_too():
    """The probe leaves b alone: the implementation ignores it, so its own loss can't move with it."""
    report = gradcheck.check(
        str(SHAPES / "no_bias_network.py"), spec=NO_BIAS_SPEC, adapter=NO_BIAS, mode="self", devices=("cpu",)
    )
    assert report.failures == [] and report.run.results


def test_without_biases_the_cases_hold_b_at_zero():
    from gradcheck.cases import CaseSpec, make_case

    case = make_case(CaseSpec((3, 4, 2), 2), NO_BIAS_SPEC)
    assert all(float(v.abs().max()) == 0 for v in case.b)
    assert any(float(v.abs().max()) > 0 for v in make_case(CaseSpec((3, 4, 2), 2), BATCH).b)


def test_bias_none_without_the_spec_flag_fails_the_weights():
    report = check("no_bias_network.py", "forward_backward", BATCH, NO_BIAS)
    assert any(param == "W" for _, param in blamed(report))  # nonzero b in the cases: another network


# -- biases folded into W as an extra (first) input column, row-major, Coursera ML style -----------

FOLDED = Adapter("folded", layout="row", numpy=True, bias="folded-first", args=("x", "y", "W"), returns=("loss", "W"))


def test_folded_biases_pass():
    assert check("folded_bias.py", "cost_function", BATCH, FOLDED).failures == []


def test_a_dropped_bias_column_is_blamed_on_that_bias():
    report = check("folded_bias.py", "cost_function_drops_first_bias", BATCH, FOLDED)
    assert {
        (layer, param) for f in report.failures if f.check == "gradient-values" for layer, param in [(f.layer, f.param)]
    } == {(0, "b")}


def test_folded_last_column_layout():
    """The same network with the ones appended last instead of first."""
    import importlib.util

    import numpy as np

    first = importlib.util.spec_from_file_location("shapes_folded", SHAPES / "folded_bias.py")
    module = importlib.util.module_from_spec(first)
    first.loader.exec_module(module)

    def ones_last(X, Y, Thetas):
        J, grads = module.cost_function(X, Y, [np.hstack([T[:, -1:], T[:, :-1]]) for T in Thetas])
        return J, [np.hstack([g[:, 1:], g[:, :1]]) for g in grads]

    last = Adapter("folded-last", layout="row", numpy=True, bias="folded", args=("x", "y", "W"), returns=("loss", "W"))
    assert gradcheck.check(ones_last, spec=BATCH, adapter=last, max_examples=0, devices=("cpu",)).failures == []
    assert gradcheck.check(ones_last, spec=BATCH, adapter=FOLDED, max_examples=0, devices=("cpu",)).failures != []


# -- gradients left in attributes after the call ----------------------------------------------------

ATTRIBUTES = Adapter(
    "attributes",
    numpy=True,
    args=("x", "y"),
    instance="bare",
    attributes=("W", "b"),
    method="backprop",
    grads_from="attributes",
    grad_keys=("dW{n}", "db{n}"),
    returns=("loss",),
)


def test_gradients_read_from_attributes_pass():
    assert check("attribute_grads.py", "Network", BATCH, ATTRIBUTES).failures == []


def test_attribute_gradient_averaged_instead_of_summed_is_blamed_on_the_last_bias():
    report = check("attribute_grads.py", "MeanLastBias", BATCH, ATTRIBUTES)
    assert report.failures
    for f in report.failures:
        assert (f.check, f.param, f.layer) == (
            "gradient-values",
            "b",
            len(f.case.widths) - 2,
        )  # the last layer of its case


# -- gradients from the parameter change of one plain SGD step -------------------------------------

STEP = Adapter("sgd-step", numpy=True, args=("x", "y", "W", "b"), grads_from="step", lr=0.1, returns=())


def test_sgd_step_gradients_pass_and_the_case_is_untouched():
    report = check("sgd_step.py", "train_step", BATCH, STEP)
    assert report.failures == []  # includes input-mutation: the step updated copies


def test_sgd_step_ascending_the_last_bias_is_blamed_there_with_ratio_minus_one():
    report = check("sgd_step.py", "train_step_ascends_last_bias", BATCH, STEP)
    assert report.failures and all(f.check == "gradient-values" and f.param == "b" for f in report.failures)
    result = next(r for r in report.run.results if r.failures)
    last = result.case.depth - 1
    got, expected = result.returned[(last, "b")], result.truth.autograd.b[last]
    assert float((got + expected).abs().max()) < 1e-4 * (1 + float(expected.abs().max()))


def test_sgd_step_with_the_wrong_learning_rate_fails_every_gradient():
    from dataclasses import replace

    report = check("sgd_step.py", "train_step", BATCH, replace(STEP, lr=0.2))
    assert {p for _, p in blamed(report)} == {"W", "b"}


# -- deeplearning.ai: forward(X, parameters) -> (AL, caches); backward(AL, Y, caches) -> grads ------

DLAI = get_preset("deeplearning-ai")
TWO = get_adapter(
    "deeplearning-ai",
    args=("x", "params"),
    backward="backward",
    backward_args=("forward[0]", "y", "forward[1]"),
    returns=("grads",),
)


def test_two_function_forward_backward_passes():
    assert check("two_functions.py", "forward", DLAI, TWO).failures == []


def test_two_function_db1_not_averaged_is_blamed_on_db1():
    from dataclasses import replace

    report = check("two_functions.py", "forward", DLAI, replace(TWO, backward="backward_db1_not_averaged"))
    assert {(f.layer, f.param) for f in report.failures if f.check == "gradient-values"} == {(0, "b")}


# -- configuration errors are one line --------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(grads_from="attributes"), "needs instance="),
        (dict(grads_from="step", lr=0), "lr > 0"),
        (dict(backward="backward"), "backward_args"),
        (dict(backward="b", backward_args=("cache",)), "backward_args"),
        (dict(bias="sideways"), "bias='sideways'"),
    ],
)
def test_bad_adapter_configurations(fields, message):
    with pytest.raises(ValueError, match=message):
        Adapter(**fields)


# -- per-layer composition: Linear and Sigmoid objects chained by the harness ------------------------

LAYERS = Adapter("layers", numpy=True, compose=("Linear", "Sigmoid", "Sigmoid"))


def test_composed_layer_objects_pass():
    assert check("layer_objects.py", "Linear", BATCH, LAYERS).failures == []


def test_composed_activation_derivative_bug_is_blamed_on_every_layer_behind_it():
    from dataclasses import replace

    report = check(
        "layer_objects.py", "Linear", BATCH, replace(LAYERS, compose=("Linear", "Sigmoid", "SigmoidOfOutput"))
    )
    assert report.failures and all(f.check == "gradient-values" for f in report.failures)
    hidden_only = check(
        "layer_objects.py", "Linear", BATCH, replace(LAYERS, compose=("Linear", "SigmoidOfOutput", "Sigmoid"))
    )
    last_layers = {len(f.case.widths) - 2 for f in hidden_only.failures}
    assert hidden_only.failures and all(f.layer < len(f.case.widths) - 2 for f in hidden_only.failures), last_layers


def test_compose_names_classes_the_module_defines():
    with pytest.raises(ValueError, match="defines no class 'Tanh'"):
        from dataclasses import replace

        check("layer_objects.py", "Linear", BATCH, replace(LAYERS, compose=("Linear", "Tanh", "Sigmoid")))


def test_folded_biases_in_a_flat_parameter_vector():
    """f(theta, X, Y) -> (J, grad) with every Theta (bias column first) flattened, ex4 style."""
    import importlib.util

    import numpy as np

    found = importlib.util.spec_from_file_location("shapes_folded_flat", SHAPES / "folded_bias.py")
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)

    def flat(theta, X, Y, widths):
        Thetas, at = [], 0
        for n_in, n_out in itertools.pairwise(widths):
            Thetas.append(theta[at : at + n_out * (n_in + 1)].reshape(n_out, n_in + 1))
            at += n_out * (n_in + 1)
        J, grads = module.cost_function(X, Y, Thetas)
        return J, np.concatenate([g.ravel() for g in grads])

    from gradcheck.adapters import wrap

    sizes: list[int] = []  # the layer widths, which ex4 passes separately
    adapter = Adapter(
        "ex4", layout="row", numpy=True, bias="folded-first", args=("theta", "x", "y"), returns=("loss", "theta")
    )
    wrapped = wrap(lambda theta, X, Y: flat(theta, X, Y, [X.shape[1], *sizes]), adapter, BATCH)

    def with_sizes(x, y, W, b):
        sizes[:] = [w.shape[0] for w in W]
        return wrapped(x, y, W, b)

    assert gradcheck.check(with_sizes, spec=BATCH, max_examples=0, devices=("cpu",)).failures == []


# -- regularisation on and off: a λ copied into the code is right for that λ only -----------------


def test_an_implementation_that_ignores_its_reg_argument_is_caught_at_lambda_zero():
    from gradcheck.cli import main

    cs231n = get_preset("cs231n-two-layer")
    report = check("cs231n_two_layer.py", "HardCodedReg", cs231n, get_adapter("cs231n"))
    assert report.failures and {d.id for d in report.diagnoses.values()} == {"regularization-hard-coded"}
    assert all(r.truth.spec.l2 == 0.0 for r in report.run.results if r.failures)  # λ = 0.05 cases all pass
    line = report.reproduce(report.failures[0])
    assert "--spec-option l2=0.0" in line
    assert main(["check", *line.split()[2:], "--json"]) == 1  # the line rebuilds the failing case
    assert check("cs231n_two_layer.py", "TwoLayerNet", cs231n, get_adapter("cs231n")).passed
