"""Layer ops and per-neuron dicts (issue 9, Deliver 1 and 5), run through the command line.

Fixtures in tests/corpus/shapes/ are written for these tests: ``autograd_linear.py`` (a
``torch.autograd.Function`` for one nn.Linear-style layer, two correct styles and two that are
right only for 2-D inputs), ``autograd_loss.py`` (a whole loss as one Function),
``neurons_sigmoid.py`` and ``neurons_tanh.py`` (Machine Learning Mastery's per-neuron dicts).
"""

from __future__ import annotations

import json

import pytest
import torch
from helpers import SHAPES, load

import gradcheck
from gradcheck.adapters import Adapter
from gradcheck.adapters import neurons as neurons_module
from gradcheck.cases import CaseSpec
from gradcheck.cli import main
from gradcheck.domain import Domain
from gradcheck.invoke import HarnessError
from gradcheck.layercheck import check_op, op_cases

OP = ["--adapter", "autograd-function"]
LOSS = ["--batch", "--adapter", "row-major", "--adapter-option", "autograd=loss"]
LOSS += ["--adapter-option", 'args=["x","y","params"]', "--adapter-option", "depth=2"]
TANH = ["--spec-option", "hidden=tanh", "--spec-option", "output=tanh"]


def run_cli(capsys, file: str, *options: str) -> tuple[int, dict]:
    """``gradcheck check FILE OPTIONS --json`` as a user types it: exit code and the JSON report."""
    code = main(["check", str(SHAPES / file), *options, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


# -- torch.autograd.Function at the op level ----------------------------------------------------


@pytest.mark.parametrize("function", ["LinearFunction", "EinsumLinear"])
def test_correct_autograd_functions_pass_on_2d_and_3d_inputs(capsys, function):
    code, report = run_cli(capsys, "autograd_linear.py", "--function", function, *OP)
    assert code == 0, report["failures"]
    assert report["checks"] == [{"name": "layer-gradient", "passed": True, "cases": report["cases_run"]}]


def test_a_backward_for_matrices_only_fails_on_the_3d_case_at_its_own_line(capsys):
    code, report = run_cli(capsys, "autograd_linear.py", "--function", "MatrixOnlyLinear", *OP)
    assert code == 1
    (failure,) = report["failures"]
    assert failure["check"] == "layer-gradient" and failure["kind"] == "exception"
    assert "t() expects a tensor with <= 2 dimensions" in failure["message"]
    assert "grad_output.t().mm(input)" in failure["evidence"]["where"]
    assert failure["case"]["leading"] == [3]
    assert "--domain-option 'leading=[[3]]'" in failure["reproduce"]


def test_the_same_backward_passes_when_the_domain_keeps_inputs_2d(capsys):
    code, report = run_cli(
        capsys, "autograd_linear.py", "--function", "MatrixOnlyLinear", *OP, "--domain-option", "leading=[[]]"
    )
    assert code == 0, report["failures"]


def test_a_3d_only_value_bug_is_blamed_on_the_weight_and_bias_gradients(capsys):
    code, report = run_cli(capsys, "autograd_linear.py", "--function", "FirstRowLinear", *OP)
    assert code == 1
    assert {(f["layer"], f["param"], f["kind"]) for f in report["failures"]} == {(0, "W", "value"), (0, "b", "value")}
    assert all(f["case"]["leading"] == [3] for f in report["failures"])


def test_the_reproduce_line_shows_the_failure_again(capsys):
    _, report = run_cli(capsys, "autograd_linear.py", "--function", "FirstRowLinear", *OP)
    line = report["failures"][0]["reproduce"]
    assert line.startswith("gradcheck check ")
    import shlex

    code, again = run_cli(capsys, "autograd_linear.py", *shlex.split(line)[3:])
    assert code == 1 and again["cases_run"] == 1
    assert {f["param"] for f in again["failures"]} == {"W", "b"}


def test_the_upstream_gradient_is_random_not_ones():
    """A backward that ignores grad_output is right only for an upstream of ones."""

    class IgnoresUpstream(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, b):
            ctx.save_for_backward(x, w)
            return x @ w.T + b

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            ones = torch.ones_like(g)
            return (
                ones @ w,
                ones.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1]),
                ones.reshape(-1, g.shape[-1]).sum(0),
            )

    result = check_op(IgnoresUpstream, CaseSpec((3, 2), 4), adapter=Adapter(layout="row", bias="vector", autograd="op"))
    assert {f.param for f in result.failures} == {"input", "W", "b"}


def test_op_cases_stay_inside_the_domain():
    domain = Domain(max_width=2, max_batch=2, dtypes=("float64",), regimes=("normal",), leading=((), (2, 3)))
    cases = op_cases(domain)
    assert cases and all(max(c.widths) <= 2 and c.batch <= 2 and c.dtype == "float64" for c in cases)
    assert {c.leading for c in cases} == {(), (2, 3)}


def test_a_network_check_refuses_leading_dims_with_one_line(capsys):
    code = main(
        [
            "check",
            str(SHAPES / "autograd_loss.py"),
            "--function",
            "TwoLayerLoss",
            *LOSS,
            "--domain-option",
            "leading=[[3]]",
        ]
    )
    assert code == 2
    assert "2-D inputs only" in capsys.readouterr().err


# -- torch.autograd.Function as a whole loss ----------------------------------------------------


def test_a_whole_loss_function_passes(capsys):
    code, report = run_cli(capsys, "autograd_loss.py", "--function", "TwoLayerLoss", *LOSS)
    assert code == 0, report["failures"]


def test_a_whole_loss_function_without_sigma_prime_is_blamed_on_the_hidden_layer(capsys):
    code, report = run_cli(capsys, "autograd_loss.py", "--function", "NoPrimeLoss", *LOSS)
    assert code == 1
    assert {(f["layer"], f["param"]) for f in report["failures"]} <= {(0, "W"), (0, "b")}
    assert report["failures"][0]["diagnosis"] not in (None, "unclassified")


# -- per-neuron dict lists ----------------------------------------------------------------------


def test_per_neuron_dicts_with_sigmoid_pass(capsys):
    code, report = run_cli(
        capsys, "neurons_sigmoid.py", "--function", "forward_propagate", "--adapter", "neurons", "--batch"
    )
    assert code == 0, report["failures"]


def test_per_neuron_dicts_with_a_correct_tanh_pass(capsys):
    options = ["--adapter", "neurons", "--adapter-option", "transfer=transfer_tanh", *TANH]
    code, report = run_cli(capsys, "neurons_tanh.py", "--function", "forward_propagate", *options)
    assert code == 0, report["failures"]


def test_tanh_derivative_taken_of_the_output_is_named(capsys):
    options = ["--adapter", "neurons", "--adapter-option", "transfer=transfer_tanh_twice", *TANH]
    code, report = run_cli(capsys, "neurons_tanh.py", "--function", "forward_propagate", *options)
    assert code == 1
    roots = [
        f for f in report["failures"] if "consequence_of" not in f["evidence"] and "same_bug_as" not in f["evidence"]
    ]
    assert roots and {f["diagnosis"] for f in roots} == {"derivative-of-output"}
    assert {f["param"] for f in roots} <= {"W", "b"}
    deepest = max(report["failures"], key=lambda f: len(f["case"]["widths"]))
    assert deepest["diagnosis"] == "derivative-of-output"


def test_per_neuron_gradients_from_the_update_step_pass_in_normal_cases(capsys):
    options = ["--adapter", "neurons", "--adapter-option", "grads_from=step", "--adapter-option", "lr=0.5"]
    options += ["--domain-option", "regimes=normal", "--max-examples", "0"]
    code, report = run_cli(capsys, "neurons_sigmoid.py", "--function", "forward_propagate", *options)
    assert code == 0, report["failures"]


def test_a_student_exception_in_backward_stays_the_students(capsys, tmp_path):
    source = (
        (SHAPES / "neurons_sigmoid.py")
        .read_text()
        .replace('errors.append(expected[j] - neuron["output"])', 'errors.append(expected[j + 1] - neuron["output"])')
    )
    (tmp_path / "broken.py").write_text(source)
    code = main(
        ["check", str(tmp_path / "broken.py"), "--function", "forward_propagate", "--adapter", "neurons", "--json"]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["failures"][0]["check"] == "call"
    assert "expected[j + 1]" in report["failures"][0]["evidence"]["where"]


def test_an_error_inside_the_neuron_adapter_is_the_harness_s(capsys, monkeypatch):
    def broken(*args):
        raise IndexError("list index out of range")

    monkeypatch.setattr(neurons_module, "_from_deltas", broken)
    code = main(
        ["check", str(SHAPES / "neurons_sigmoid.py"), "--function", "forward_propagate", "--adapter", "neurons"]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3
    assert len(err) == 1 and "internal error in the neurons adapter: IndexError" in err[0]
    with pytest.raises(HarnessError):
        gradcheck.check(load("neurons_sigmoid").forward_propagate, adapter="neurons", max_examples=0)


def test_neuron_keys_and_function_names_are_configurable(capsys, tmp_path):
    source = (SHAPES / "neurons_sigmoid.py").read_text()
    for old, new in (
        ('"weights"', '"w"'),
        ('"delta"', '"d"'),
        ("forward_propagate", "fwd"),
        ("backward_propagate_error", "bwd"),
    ):
        source = source.replace(old, new)
    (tmp_path / "renamed.py").write_text(source)
    options = ["--adapter", "neurons", "--adapter-option", 'neurons=["fwd","bwd",""]']
    options += ["--adapter-option", 'neuron_keys=["w","output","d"]']
    code = main(["check", str(tmp_path / "renamed.py"), "--function", "fwd", *options, "--json"])
    assert code == 0, capsys.readouterr().out


def test_a_missing_neuron_function_is_a_usage_error(capsys):
    options = ["--adapter", "neurons", "--adapter-option", 'neurons=["forward_propagate","backprop",""]']
    code = main(["check", str(SHAPES / "neurons_sigmoid.py"), "--function", "forward_propagate", *options])
    assert code == 2
    assert "defines no function 'backprop'" in capsys.readouterr().err
