"""Issue 9, cause 1: the saturated regime must not reject a textbook softmax (CS231n style).

The fixtures in tests/corpus/robust/ are a max-shifted and an unshifted numpy softmax, a net that
regularises its biases (self-consistent, not the spec's loss) and one whose gradients are N times
its mean loss's. Every default case runs, float32 and float64, saturated included, plus the search.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gradcheck.cli import main

FILE = Path(__file__).resolve().parent / "corpus" / "robust" / "cs231n_textbook.py"
CS231N = ["--spec", "cs231n-two-layer", "--adapter", "cs231n", "--json", "--max-examples", "20"]


def run(capsys, function: str, mode: str) -> tuple[int, dict]:
    code = main(["check", str(FILE), "--function", function, "--mode", mode, *CS231N])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("mode", ["spec", "self"])
@pytest.mark.parametrize("function", ["TwoLayerNet", "UnshiftedNet"])
def test_a_textbook_softmax_passes_every_default_regime(capsys, function, mode):
    code, report = run(capsys, function, mode)
    assert code == 0, report["failures"]
    assert report["cases_run"] >= 10


def test_regularised_biases_pass_self_mode_and_are_named_in_spec_mode(capsys):
    assert run(capsys, "BiasRegNet", "self")[0] == 0
    code, report = run(capsys, "BiasRegNet", "spec")
    assert code == 1
    named = {f["param"] for f in report["failures"] if f["diagnosis"] == "regularization-on-biases"}
    assert "b" in named and "W" not in named


def test_gradients_of_the_sum_fail_self_mode_on_every_parameter(capsys):
    code, report = run(capsys, "SumGradNet", "self")
    assert code == 1
    assert {(f["layer"], f["param"]) for f in report["failures"]} >= {(0, "W"), (1, "W")}


@pytest.mark.parametrize("function", ["TwoLayerNet", "UnshiftedNet"])
def test_an_overflowing_loss_is_numerical_instability_not_a_penalty(capsys, function):
    """The raw ``extreme`` regime (never drawn by default) overflows a textbook softmax: an inf or
    NaN loss must be named as overflow, never as a missing L2 penalty (inf matches any offset)."""
    argv = ["check", str(FILE), "--function", function, *CS231N, "--widths", "4,5,3", "--batch-size", "5"]
    assert main([*argv, "--regime", "extreme"]) == 1
    failures = json.loads(capsys.readouterr().out)["failures"]
    loss = next(f for f in failures if f["check"] == "loss-value")
    assert loss["diagnosis"] == "numerical-instability"
    assert "logsumexp" in loss["hint"] and "σ′" not in loss["hint"]
