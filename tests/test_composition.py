"""Per-layer composition (issue 9, deliver 5): the three shapes of the survey, run as a user would.

Fixtures in tests/corpus/shapes/ are written for these tests in each course's style: MyTorch
(``Linear.__init__`` with a debug flag, activations whose ``backward()`` takes no upstream), FAU
(``FullyConnected`` with the bias folded into ``weights`` as the last row, an in-place ReLU) and
CS231n ``layers.py`` (functional pairs with caches, an in-place ``relu_backward``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gradcheck.adapters.layerargs import layer_arguments, parse_layer_args
from gradcheck.cli import main

SHAPES = Path(__file__).resolve().parent / "corpus" / "shapes"
MYTORCH = ["--spec", "mytorch", "--adapter", "numpy", "--adapter-option", "layout=row"]
MYTORCH += ["--adapter-option", "activation_upstream=false", "--adapter-option", 'grad_keys=["dLdW", "dLdb"]']
MYTORCH += ["--adapter-option", 'layer_args=["in", "out", "debug=False"]']
ROW = ["--spec", "cs231n-two-layer", "--spec-option", "l2=0", "--adapter", "numpy"]
ROW += ["--adapter-option", "layout=row", "--adapter-option", "weights=in_out"]
FAU = [*ROW, "--adapter-option", "bias=folded", "--adapter-option", 'attributes=["weights"]']
FAU += ["--adapter-option", 'grad_keys=["gradient_weights"]', "--adapter-option", 'layer_args=["in", "out"]']
CS231N = [*ROW, "--adapter-option", "bias=vector", "--adapter-option", "compose_style=functions"]


def run(capsys, file: str, function: str, options: list[str], compose: str) -> tuple[int, dict, str]:
    argv = ["check", str(SHAPES / file), "--function", function, "--json", "--max-examples", "0", *options]
    code = main([*argv, "--adapter-option", f"compose={compose}"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out else {}), err


def mutations(report: dict) -> list[str]:
    return [w for w in report["warnings"] if w.startswith("input-mutation")]


def test_mytorch_layers_with_init_and_local_derivatives_pass(capsys):
    code, report, _ = run(capsys, "mytorch_layers.py", "Linear", MYTORCH, '["Linear", "Sigmoid", ""]')
    assert code == 0 and report["passed"] and not mutations(report)


def test_mytorch_dividing_by_the_batch_twice_is_a_scale_factor(capsys):
    options = [*MYTORCH, "--spec-option", "hidden=tanh"]
    code, report, _ = run(capsys, "mytorch_layers.py", "Linear", options, '["LinearMeanTwice", "Tanh", ""]')
    assert code == 1
    assert {f["check"] for f in report["failures"]} == {"gradient-values"}
    root = next(f for f in report["failures"] if (f["layer"], f["param"]) == (0, "W"))
    assert root["diagnosis"] == "scale-factor"


def test_a_layer_class_with_init_needs_its_arguments(capsys):
    options = MYTORCH[:-2]  # without layer_args
    code, _, err = run(capsys, "mytorch_layers.py", "Linear", options, '["Linear", "Sigmoid", ""]')
    assert code == 2 and len(err.strip().splitlines()) == 1 and "layer_args" in err


def test_an_exception_in_their_backward_is_theirs_with_its_line(capsys):
    code, report, _ = run(capsys, "mytorch_layers.py", "Linear", MYTORCH, '["LinearRaises", "Sigmoid", ""]')
    failure = report["failures"][0]
    assert code == 1 and failure["check"] == "call" and "mytorch_layers.py:" in failure["message"]


def test_fau_folded_weights_pass_and_the_in_place_relu_is_reported(capsys):
    code, report, _ = run(capsys, "fau_layers.py", "FullyConnected", FAU, '["FullyConnected", "ReLU", ""]')
    assert code == 0 and report["passed"]
    assert mutations(report) and all("ReLU.backward" in w for w in mutations(report))


def test_fau_relu_without_its_mask_is_named_on_the_hidden_layer(capsys):
    code, report, _ = run(capsys, "fau_layers.py", "FullyConnected", FAU, '["FullyConnected", "ReLUUnmasked", ""]')
    assert code == 1 and {(f["layer"], f["param"]) for f in report["failures"]} == {(0, "W"), (0, "b")}
    root = next(f for f in report["failures"] if f["param"] == "W")
    assert root["diagnosis"] == "missing-activation-derivative"


def test_fau_error_of_the_wrong_width_raises_in_their_relu(capsys):
    compose = '["FullyConnectedKeepsBiasColumn", "ReLU", ""]'
    code, report, _ = run(capsys, "fau_layers.py", "FullyConnected", FAU, compose)
    failure = report["failures"][0]
    assert code == 1 and failure["check"] == "call" and "fau_layers.py:" in failure["message"]


def test_cs231n_functional_layers_pass_and_the_in_place_relu_backward_is_reported(capsys):
    code, report, _ = run(capsys, "cs231n_layers.py", "affine_forward", CS231N, '["affine", "relu", ""]')
    assert code == 0 and report["passed"]
    assert mutations(report) and all("relu_backward" in w for w in mutations(report))
    copying = run(capsys, "cs231n_layers.py", "affine_forward", CS231N, '["affine", "relu_copy", ""]')
    assert copying[0] == 0 and not mutations(copying[1])


def test_cs231n_transposed_dw_fails_on_the_weights_only(capsys):
    code, report, _ = run(capsys, "cs231n_layers.py", "affine_forward", CS231N, '["affine_t", "relu_copy", ""]')
    assert code == 1 and {(f["check"], f["param"]) for f in report["failures"]} == {("gradient-shapes", "W")}
    assert {f["layer"] for f in report["failures"]} == {0, 1}
    # Known: on these built-in cases the diagnosis says layer-order, not transposed-weight-gradient.


def test_a_piece_that_returns_no_cache_is_told_so(capsys):
    code, report, _ = run(capsys, "cs231n_layers.py", "affine_forward", CS231N, '["nocache", "relu", ""]')
    failure = report["failures"][0]
    assert code == 1 and failure["check"] == "call" and "nocache_forward returned" in failure["message"]


def test_a_missing_function_pair_is_a_configuration_error(capsys):
    code, _, err = run(capsys, "cs231n_layers.py", "affine_forward", CS231N, '["conv", "relu", ""]')
    assert code == 2 and "conv_forward" in err


def test_an_error_inside_the_chain_is_gradchecks_own(capsys, monkeypatch):
    from gradcheck.adapters.composition import chain

    def broken(*args, **kwargs):
        raise IndexError("list index out of range")

    monkeypatch.setattr(chain, "unfold_biases", broken)
    code, report, err = run(capsys, "fau_layers.py", "FullyConnected", FAU, '["FullyConnected", "ReLU", ""]')
    assert code == 3 and not report and len(err.strip().splitlines()) == 1 and "layer chain" in err


def test_layer_args_by_position_keyword_and_constant():
    assert layer_arguments(["in", "out", "debug=False"], 3, 2) == ([3, 2], {"debug": False})
    assert layer_arguments(["input_size=in", "scale=0.5", "init=true"], 4, 1) == (
        [],
        {"input_size": 4, "scale": 0.5, "init": True},
    )
    for bad in (["debug=Fals"], ["n=in", "out"]):
        with pytest.raises(ValueError, match="layer_args"):
            parse_layer_args(bad)


@pytest.mark.parametrize(("relu", "code"), [("fau_layers.ReLU", 0), ("fau_layers.ReLUUnmasked", 1)])
def test_layers_in_other_modules_are_named_module_dot_class(capsys, tmp_path, monkeypatch, relu, code):
    monkeypatch.syspath_prepend(str(SHAPES))  # the layers' package, as the code's own imports find it
    (tmp_path / "net.py").write_text("from fau_layers import FullyConnected\n")
    compose = json.dumps(["FullyConnected", relu, ""])
    argv = ["check", str(tmp_path / "net.py"), "--function", "FullyConnected", "--json", "--max-examples", "0", *FAU]
    assert main([*argv, "--adapter-option", f"compose={compose}"]) == code
    failures = json.loads(capsys.readouterr().out)["failures"]
    assert {(f["layer"], f["param"]) for f in failures} == ({(0, "W"), (0, "b")} if code else set())
