"""Notebook globals as the binding (issue 6, item 3) and one layer checked against a given
upstream gradient.

The notebook fixture (tests/corpus/shapes/notebook_globals.py) keeps its parameters in globals
``W1, b1, W2, b2`` of other shapes and values than any case, and its own run leaves ``dW1 ...``
behind: a correct function passes only if the case's parameters are the ones used, and a
function that forgets a gradient fails instead of passing on a stale one.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import gradcheck
from gradcheck.adapters import Adapter
from gradcheck.cases import CaseSpec
from gradcheck.grading.rubric import RubricError, parse_rubric
from gradcheck.layercheck import check_layer
from gradcheck.loading import load_target
from gradcheck.presets import get_preset
from gradcheck.records import describe_failure

SHAPES = Path(__file__).resolve().parent / "corpus" / "shapes"
NOTEBOOK = SHAPES / "notebook_globals.py"
BATCH = get_preset("seed", batch=True)
GLOBALS = Adapter(
    "notebook",
    numpy=True,
    args=("x", "y"),
    params_from="globals",
    grads_from="globals",
    grad_keys=("dW{n}", "db{n}"),
    returns=("loss",),
    depth=2,
)
STEP = Adapter(
    "notebook-step",
    numpy=True,
    args=(),
    params_from="globals",
    data=("X", "Y"),
    grads_from="step",
    lr=0.5,
    returns=("loss",),
    depth=2,
)
# the notebook's own widths: stale globals fit, so only their values can give them away
OWN_WIDTHS = [CaseSpec((6, 8, 2), batch, seed=seed) for batch in (1, 10) for seed in (0, 1)]


def check(target, function: str, adapter: Adapter = GLOBALS, **kwargs):
    return gradcheck.check(
        target, function=function, spec=BATCH, adapter=adapter, max_examples=0, devices=("cpu",), **kwargs
    )


def blamed(report) -> set[tuple]:
    return {(f.check, f.layer, f.param) for f in report.failures}


# -- parameters in, gradients out through globals --------------------------------------------------


def test_notebook_globals_pass():
    report = check(str(NOTEBOOK), "backprop")
    assert report.failures == [] and len(report.run.results) >= 4


def test_the_cases_parameters_are_used_not_the_notebooks():
    """Same shapes as the notebook's globals, other values: passing proves the binding."""
    report = check(str(NOTEBOOK), "backprop", cases=OWN_WIDTHS)
    assert report.failures == [] and len(report.run.results) >= len(OWN_WIDTHS)
    unbound = dataclasses.replace(GLOBALS, params_from="args", args=("x", "y"))
    assert any(
        f.check == "gradient-values" for f in check(str(NOTEBOOK), "backprop", unbound, cases=OWN_WIDTHS).failures
    )


def test_a_stale_global_is_blamed_on_the_first_layer():
    report = check(str(NOTEBOOK), "backprop_stale_W2", cases=OWN_WIDTHS)
    assert blamed(report) == {("gradient-values", 0, "W"), ("gradient-values", 0, "b")}


def test_a_stale_global_of_another_shape_fails_the_call():
    report = check(str(NOTEBOOK), "backprop_stale_W2")
    assert report.failures and all(f.layer in (0, None) for f in report.failures)


def test_a_gradient_left_from_the_notebooks_own_run_is_not_taken():
    """Stale db2 has the right shape here: only clearing the name makes it read as missing."""
    report = check(str(NOTEBOOK), "backprop_forgets_db2", cases=OWN_WIDTHS)
    assert {(f.check, f.kind, f.layer, f.param) for f in report.failures} == {("gradient-types", "missing", 1, "b")}


def test_globals_are_restored_after_the_check():
    target = load_target(str(NOTEBOOK), "backprop")
    namespace = target.function.__globals__
    before = {name: namespace[name] for name in ("W1", "b1", "W2", "b2", "dW1", "db1", "dW2", "db2", "X", "Y")}
    snapshot = {name: value.copy() for name, value in before.items()}
    assert check(namespace["backprop"], "backprop").failures == []
    for name, value in before.items():
        assert namespace[name] is value and np.array_equal(value, snapshot[name]), name
    assert check(namespace["train_step"], "train_step", STEP).failures == []
    for name in ("W1", "b1", "W2", "b2", "X", "Y"):  # what the step adapter binds (dW1 ... are train_step's own doing)
        assert namespace[name] is before[name] and np.array_equal(before[name], snapshot[name]), name


def test_a_training_step_on_globals_with_no_arguments():
    assert check(str(NOTEBOOK), "train_step", STEP).failures == []
    report = check(str(NOTEBOOK), "train_step_typo", STEP)
    assert ("gradient-values", 1, "W") in blamed(report) and report.failures[0].layer == 1


def test_a_real_notebook(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    source = NOTEBOOK.read_text(encoding="utf-8")
    head, _, rest = source.partition("\ndef sigmoid")
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(head), nbformat.v4.new_code_cell("def sigmoid" + rest)]
    )
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, str(path))
    assert check(str(path), "backprop", cases=OWN_WIDTHS).failures == []
    assert {(l, p) for _, l, p in blamed(check(str(path), "backprop_stale_W2", cases=OWN_WIDTHS))} == {
        (0, "W"),
        (0, "b"),
    }


def test_globals_options_are_validated():
    with pytest.raises(ValueError, match="grad_keys"):
        Adapter(params_from="globals", grads_from="globals")
    with pytest.raises(ValueError, match="params_from"):
        Adapter(params_from="nowhere")
    with pytest.raises(ValueError, match="data="):
        Adapter(data=("X", "Y"))
    with pytest.raises(ValueError, match="plain function"):
        Adapter(params_from="globals", instance="bare", method="loss", attributes=("params",))


@pytest.mark.parametrize(
    "option", ['params_from = "globals"', 'grads_from = "globals"\ngrad_keys = ["dW{n}", "db{n}"]']
)
def test_the_grader_refuses_globals_adapters(option):
    text = (
        f'name = "r"\nmax_examples = 0\n\n[adapter]\nnumpy = true\n{option}\n\n'
        '[[tests]]\nname = "G"\nchecks = ["gradient-values"]\n'
    )
    with pytest.raises(RubricError, match="notebook-globals adapter") as info:
        parse_rubric(text, "r")
    assert "\n" not in str(info.value)


# -- one layer against a given upstream gradient ---------------------------------------------------


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def layer_backward(a_prev, W, b, z, da):
    dz = da * sigmoid(z) * (1 - sigmoid(z))
    return W.T @ dz, dz @ a_prev.T, dz.sum(axis=1, keepdims=True)


def layer_backward_no_prime(a_prev, W, b, z, da):
    return W.T @ da, da @ a_prev.T, da.sum(axis=1, keepdims=True)


def test_a_correct_layer_passes():
    assert check_layer(layer_backward, numpy=True, widths=(4, 3), batch=5) == []
    assert check_layer(layer_backward, numpy=True, widths=(3, 3), batch=1, seeds=[7]) == []


def test_a_correct_torch_layer_with_the_output_as_cache():
    def backward(a_prev, W, b, a, da):
        dz = da * (1 - a * a)
        return W.T @ dz, dz @ a_prev.T, dz.sum(dim=1, keepdim=True)

    assert check_layer(backward, activation="tanh", cache="a", widths=(5, 2), batch=4) == []
    assert check_layer(backward, activation="tanh", cache="a", widths=(5, 2), dtype="float32") == []
    assert {f.param for f in check_layer(backward, activation="sigmoid", cache="a")} == {"delta", "W", "b"}


def test_a_layer_missing_the_activation_derivative_fails_every_output():
    failures = check_layer(layer_backward_no_prime, numpy=True, seeds=[0])
    assert {f.param for f in failures} == {"delta", "W", "b"}
    assert all(f.kind == "value" and f.mismatch is not None for f in failures)


def test_a_square_layer_without_the_transpose_fails_the_propagated_delta_only():
    def backward(a_prev, W, b, z, da):
        dz = da * sigmoid(z) * (1 - sigmoid(z))
        return W @ dz, dz @ a_prev.T, dz.sum(axis=1, keepdims=True)

    failures = check_layer(backward, numpy=True, widths=(3, 3), seeds=[0, 1])
    assert {f.param for f in failures} == {"delta"} and "propagated" in describe_failure(failures[0])
    assert {f.kind for f in check_layer(backward, numpy=True, widths=(4, 3), seeds=[0])} == {"exception"}


def test_a_weight_gradient_transposed_is_blamed_on_W():
    def backward(a_prev, W, b, z, da):
        dz = da * sigmoid(z) * (1 - sigmoid(z))
        return W.T @ dz, (dz @ a_prev.T).T, dz.sum(axis=1, keepdims=True)

    assert [(f.param, f.kind) for f in check_layer(backward, numpy=True, widths=(4, 3), seeds=[0])] == [("W", "shape")]
    assert {(f.param, f.kind) for f in check_layer(backward, numpy=True, widths=(3, 3), seeds=[0])} == {("W", "value")}


def test_a_bias_gradient_averaged_over_the_batch_is_blamed_on_b():
    def backward(a_prev, W, b, z, da):
        dz = da * sigmoid(z) * (1 - sigmoid(z))
        return W.T @ dz, dz @ a_prev.T, dz.mean(axis=1, keepdims=True)

    assert {f.param for f in check_layer(backward, numpy=True, batch=4)} == {"b"}
    assert check_layer(backward, numpy=True, batch=1) == []
