"""Self-consistency mode: gradients judged against the implementation's own loss."""

import pytest
from helpers import RELU, TWO_LAYER, load, near_kinks, relu_backprop

from gradcheck.adapters import wrap
from gradcheck.cases import CaseSpec
from gradcheck.checker import check_case, check_cases
from gradcheck.presets import get_preset
from gradcheck.records import describe_failure, failure_facts
from gradcheck.selfconsistency import KIND
from gradcheck.truth import compute_truth

CS231N = get_preset("cs231n-two-layer")
CASES = [*TWO_LAYER, CaseSpec((5, 6, 4), 3, seed=2)]


def run(cls_name, mode):
    return check_cases(
        wrap(getattr(load("cs231n_two_layer"), cls_name), "cs231n", CS231N), CASES, spec=CS231N, mode=mode
    )


def failures(r):
    return [f for result in r.results for f in result.failures]


def test_a_differently_regularised_correct_solution_passes_in_self_mode_only():
    assert failures(run("HalfRegWithBiases", "spec"))
    assert failures(run("HalfRegWithBiases", "self")) == []
    both = failures(run("HalfRegWithBiases", "both"))
    assert both and all(f.kind == "value" for f in both)  # only the specification's verdicts


def test_the_correct_solution_passes_every_mode_and_self_mode_really_ran():
    for mode in ("self", "both"):
        r = run("TwoLayerNet", mode)
        assert failures(r) == []
        assert all("gradient-values" in x.evaluated for x in r.results if x.case.dtype == "float64")


@pytest.mark.parametrize(
    "cls_name, wrong",
    [
        ("Db2TimesN", {(1, "b")}),
        ("RegOnBiases", {(0, "b"), (1, "b")}),
        ("AllOverN", {(0, "W"), (0, "b"), (1, "W"), (1, "b")}),
    ],
)
def test_real_bugs_are_inconsistent_with_their_own_loss(cls_name, wrong):
    found = failures(run(cls_name, "self"))
    assert {(f.layer, f.param) for f in found} == wrong
    assert all(f.check == "gradient-values" and f.kind == KIND and failure_facts(f)["mode"] == "self" for f in found)
    assert all("not the derivative of the implementation's own loss" in describe_failure(f) for f in found)


def test_no_loss_to_differentiate_is_said_plainly():
    found = failures(run("Unfinished", "self"))
    assert any(f.check == "loss-value" and f.kind == KIND and "no numeric loss" in describe_failure(f) for f in found)


def test_a_correct_relu_implementation_near_kinks_is_not_blamed_and_the_probes_say_so():
    case = near_kinks(RELU)
    truth = compute_truth(RELU, case)
    result, _ = check_case(relu_backprop(RELU), case, truth, mode="self")
    assert result.failures == []
    notes = [v for k, v in truth.disagreements.items() if k[-1] == "self-kink"]
    assert notes and all("kink within the step" in v for v in notes)


def test_a_wrong_relu_mask_away_from_kinks_is_caught_in_self_mode():
    case = near_kinks(RELU, distance=0.5)
    result, _ = check_case(relu_backprop(RELU, "mask-from-wrong-layer"), case, compute_truth(RELU, case), mode="self")
    assert {(f.layer, f.kind) for f in result.failures} == {(0, KIND)}


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="mode 'selfish' is not one of spec, self, both"):
        check_cases(lambda *a: None, TWO_LAYER[:1], spec=CS231N, mode="selfish")
