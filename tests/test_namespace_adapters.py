"""Shapes with no function to call, constants between the arguments, parameters the code draws
itself (issue 9, deliver 5): the namespace runner, constant arguments, the initialisation seam.

Every fixture is written for these tests in the style of the code it imitates (a tensor
tutorial's top-level script, a notebook of top-level cells, a flat-θ cost function with the
sizes between θ and X, a training function that draws its own parameters), correct and with one
classic bug. Each runs through the command line exactly as a user would type it; one through a
``[tool.gradcheck.adapter]`` table. A configuration that cannot apply (a variable the code
never sets) exits 2 with one line naming it; the code's own exception stays the code's (exit 1).
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest

from gradcheck.adapters import Adapter
from gradcheck.adapters.rewrite import Unassigned, plan
from gradcheck.cli import main

CORPUS = Path(__file__).resolve().parent / "corpus"
SCRIPTS = CORPUS / "scripts"
SHAPES = CORPUS / "shapes"

TUTORIAL = [
    "--spec",
    "pytorch-tensor-tutorial",
    "--spec-option",
    "biases=false",
    "--adapter",
    "script",
    "--adapter-option",
    "bias=none",
    "--adapter-option",
    'keys=["w{n}", "b{n}"]',
    "--adapter-option",
    'grad_keys=["grad_w{n}", "grad_b{n}"]',
]
CELLS = ["--spec", "mytorch", "--adapter", "script", "--adapter-option", "targets=index"]
CELLS += ["--adapter-option", 'data=["X", "Y"]', "--adapter-option", "depth=2"]
EX4 = ["--spec", "coursera-ml-ex4", "--adapter", "numpy", "--adapter-option", "layout=row"]
EX4 += ["--adapter-option", "bias=folded-first", "--adapter-option", "targets=index"]
EX4 += ["--adapter-option", 'args=["theta", "n0", "n1", "nL", "x", "y", "reg"]']
EX4 += ["--adapter-option", 'returns=["loss", "theta"]']
OWN_INIT = ["--spec", "dennybritz", "--adapter", "numpy", "--adapter-option", "layout=row"]
OWN_INIT += ["--adapter-option", "weights=in_out", "--adapter-option", "bias=row"]
OWN_INIT += ["--adapter-option", "targets=index", "--adapter-option", "init=assign"]
OWN_INIT += ["--adapter-option", 'args=["x", "y", "n1"]', "--adapter-option", 'kwargs=["passes=1"]']
OWN_INIT += ["--adapter-option", "grads_from=step", "--adapter-option", "lr=0.01"]
OWN_INIT += ["--adapter-option", 'returns=["params"]']
# A step's gradient (θ − θ′)/lr carries round-off of |θ|·ε/lr, which the tolerances do not yet
# allow for at saturated values (issue 9, cause 3): these cases stay in the normal regime.
NORMAL = ["--domain-option", 'regimes=["normal"]']
FAST = ["--max-examples", "5", "--device", "cpu", "--json"]


def run(capsys, target: Path, *options: str) -> tuple[int, dict, str]:
    """The exit code, the JSON report (empty when none was printed) and what went to stderr."""
    code = main(["check", str(target), *options, *FAST])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


def blamed(report: dict) -> set[tuple[str, int | None, str | None]]:
    return {(f["check"], f["layer"], f["param"]) for f in report["failures"]}


# -- the namespace runner: a top-level script ----------------------------------------------------


def test_tutorial_script_passes_with_its_own_names(capsys):
    code, report, _ = run(capsys, SCRIPTS / "tensor_tutorial.py", *TUTORIAL)
    assert code == 0 and report["passed"] and report["cases_run"] > 0


def test_tutorial_script_without_the_relu_mask_is_blamed_on_the_first_weights(capsys):
    code, report, _ = run(capsys, SCRIPTS / "tensor_tutorial_no_mask.py", *TUTORIAL)
    assert code == 1
    assert {(c, layer, p) for c, layer, p in blamed(report)} == {("gradient-values", 0, "W")}


def test_a_gradient_variable_the_script_never_sets_exits_2_naming_it(capsys):
    options = [*TUTORIAL[:-1], 'grad_keys=["grad_W{n}", "grad_b{n}"]']
    code, report, err = run(capsys, SCRIPTS / "tensor_tutorial.py", *options)
    assert code == 2 and report == {}
    assert "'grad_W1'" in err and "grad_keys" in err and len(err.strip().splitlines()) == 1


def test_the_scripts_own_exception_stays_the_scripts(capsys, tmp_path):
    broken = tmp_path / "tutorial.py"
    source = (SCRIPTS / "tensor_tutorial.py").read_text()
    broken.write_text(source.replace("grad_w2 = h_relu.t().mm(grad_y_pred)", "grad_w2 = h_relu.mm(grad_y_pred)"))
    code, report, _ = run(capsys, broken, *TUTORIAL)
    assert code == 1
    calls = [f for f in report["failures"] if f["check"] == "call"]
    assert calls and "RuntimeError" in calls[0]["message"] and "tutorial.py" in calls[0]["message"]


# -- the namespace runner: notebook cells --------------------------------------------------------


def test_notebook_cells_pass_and_the_unparsable_cell_is_a_warning(capsys):
    code, report, _ = run(capsys, SCRIPTS / "manual_backprop_cells.ipynb", *CELLS)
    assert code == 0 and report["passed"]
    assert any("cell 5 skipped" in w for w in report["warnings"])


def test_notebook_cells_with_db2_times_n_are_named(capsys):
    code, report, _ = run(capsys, SCRIPTS / "manual_backprop_cells_db2_times_n.ipynb", *CELLS)
    assert code == 1
    assert blamed(report) == {("gradient-values", 1, "b")}
    assert {f["diagnosis"] for f in report["failures"]} == {"sum-instead-of-mean"}


def test_cells_at_another_depth_than_the_code_has_exit_2(capsys):
    code, _, err = run(capsys, SCRIPTS / "manual_backprop_cells.ipynb", *CELLS[:-2], "--adapter-option", "depth=3")
    assert code == 2 and "dW3" in err and "depth=" in err


# -- the rewrite rule itself ----------------------------------------------------------------------

RULE = """\
import math
x = make()
x, other = make(), 2
for step in range(10):
    xb = x[step]
    grad = step * 2
    break_here = 1
print("after")
"""


def test_the_rule_keeps_the_harness_values_runs_one_iteration_and_stops():
    (cell,) = plan([ast.parse(RULE)], {"x", "xb"}, ["grad"])
    text = ast.unparse(cell)
    assert "x, other = (make(), 2)" in text  # runs, then x is restored
    assert "xb = _gradcheck_values['xb']" in text and "_gradcheck_once(range(10))" in text
    assert "after" not in text
    first = text.splitlines()[1]
    assert first == "x = _gradcheck_values['x']"  # x = make() never runs


def test_the_rule_names_gradients_nothing_assigns():
    with pytest.raises(Unassigned, match="grad_b"):
        plan([ast.parse(RULE)], {"x"}, ["grad_b"])


# -- constant arguments (widths, λ) ---------------------------------------------------------------


def test_flat_theta_with_the_sizes_between_theta_and_x_passes(capsys):
    code, report, _ = run(capsys, SHAPES / "flat_theta_constants.py", "--function", "cost_function", *EX4)
    assert code == 0 and report["passed"]


def test_flat_theta_regularising_the_bias_column_is_named(capsys):
    target = SHAPES / "flat_theta_constants.py"
    code, report, _ = run(capsys, target, "--function", "cost_function_regularises_bias", *EX4)
    assert code == 1
    assert {(layer, p) for _, layer, p in blamed(report)} <= {(0, "b"), (1, "b"), (None, "loss")}
    assert "regularization-on-biases" in {f["diagnosis"] for f in report["failures"]}


def test_a_width_beyond_the_network_exits_2(capsys):
    options = [*EX4, "--adapter-option", 'args=["theta", "n0", "n1", "n5", "x", "y", "reg"]']
    code, _, err = run(capsys, SHAPES / "flat_theta_constants.py", "--function", "cost_function", *options)
    assert code == 2 and "'n5'" in err


def test_arguments_are_names_or_literals():
    assert Adapter(args=("x", "y", "n2", "nL", "sizes", "3", "false")).args[-1] == "false"
    with pytest.raises(ValueError, match="'lamda'"):
        Adapter(args=("x", "lamda"))
    with pytest.raises(ValueError, match="name=VALUE"):
        Adapter(kwargs=("passes",))


# -- the initialisation seam ----------------------------------------------------------------------


def test_code_that_draws_its_own_parameters_gets_the_harness_ones_and_passes(capsys):
    code, report, _ = run(capsys, SHAPES / "own_init.py", "--function", "fit", *OWN_INIT, *NORMAL)
    assert code == 0 and report["passed"]


def test_code_that_draws_its_own_parameters_with_a_bug_is_named(capsys):
    target = SHAPES / "own_init.py"
    code, report, _ = run(capsys, target, "--function", "fit_unregularised_first_layer", *OWN_INIT, *NORMAL)
    assert code == 1
    assert blamed(report) == {("gradient-values", 0, "W")}
    assert {f["diagnosis"] for f in report["failures"]} == {"regularization-missing"}


def test_a_parameter_the_function_never_assigns_exits_2(capsys):
    options = [*OWN_INIT, "--adapter-option", 'keys=["V{n}", "b{n}"]']
    code, _, err = run(capsys, SHAPES / "own_init.py", "--function", "fit", *options, *NORMAL)
    assert code == 2 and "never assigns V1, V2" in err


# -- the same, from pyproject.toml ----------------------------------------------------------------


def test_the_script_adapter_from_a_pyproject_table(capsys, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(
        """\
[tool.gradcheck.spec]
preset = "pytorch-tensor-tutorial"
biases = false

[tool.gradcheck.adapter]
name = "script"
bias = "none"
keys = ["w{n}", "b{n}"]
grad_keys = ["grad_w{n}", "grad_b{n}"]
"""
    )
    monkeypatch.chdir(tmp_path)
    code, report, err = run(capsys, SCRIPTS / "tensor_tutorial.py")
    assert code == 0 and report["passed"], err
    code, report, _ = run(capsys, SCRIPTS / "tensor_tutorial_no_mask.py")
    assert code == 1 and blamed(report) == {("gradient-values", 0, "W")}
    assert os.getcwd() == str(tmp_path)
