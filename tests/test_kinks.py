"""Kink awareness: finite differences that straddle a ReLU kink are flagged, and never blamed."""

import pytest
from helpers import RELU, near_kinks, relu_backprop

from gradcheck.cases import CaseSpec, make_case
from gradcheck.checker import check_case
from gradcheck.oracles import FD_STEP, autograd_oracle, finite_difference_oracle
from gradcheck.spec import Spec
from gradcheck.truth import compute_truth

LEAKY = Spec("leaky-sse", batch=True, hidden="leaky_relu(0.1)", output="identity", criterion="sse")


@pytest.mark.parametrize("spec", [RELU, LEAKY], ids=lambda s: s.name)
def test_steps_across_a_kink_are_flagged_where_the_fd_is_wrong(spec):
    case = near_kinks(spec)
    ad, fd = autograd_oracle(spec, case), finite_difference_oracle(spec, case)
    flagged = sum(int(k.sum()) for k in fd.W_kinks + fd.b_kinks)
    assert flagged > 0
    wrong = 0
    for layer in range(3):
        for param in ("W", "b"):
            off = (fd.param(layer, param) - ad.param(layer, param)).abs() > 10 * fd.noise(layer, param) + 1e-9
            assert not bool((off & ~fd.kinks(layer, param)).any()), (layer, param)  # every bad FD entry is flagged
            wrong += int(off.sum())
    assert wrong > 0  # the construction really does put finite differences across kinks


def test_a_case_far_from_kinks_flags_nothing():
    case = near_kinks(RELU, distance=0.5)
    fd = finite_difference_oracle(RELU, case)
    assert not any(bool(k.any()) for k in fd.W_kinks + fd.b_kinks)


def test_sigmoid_specs_do_not_track_kinks():
    fd = finite_difference_oracle(Spec(), make_case(CaseSpec((3, 2))))
    assert fd.W_kinks == [] and fd.kinks(0, "W") is None


@pytest.mark.parametrize("spec", [RELU, LEAKY], ids=lambda s: s.name)
def test_a_correct_relu_implementation_near_kinks_passes_and_the_kinks_are_reported(spec):
    case = near_kinks(spec)
    truth = compute_truth(spec, case)
    result, _ = check_case(relu_backprop(spec), case, truth)
    assert result.failures == []
    assert "gradient-values" in result.evaluated
    notes = {k: v for k, v in truth.disagreements.items()}
    assert notes and all(len(k) == 3 and k[2] == "kink" for k in notes)  # entries left out, tensors still judged
    assert all("straddles a ReLU kink" in v for v in notes.values())


def test_a_wrong_relu_mask_near_kinks_is_still_caught():
    case = near_kinks(RELU, widths=(3, 4, 4, 2))
    truth = compute_truth(RELU, case)
    result, _ = check_case(relu_backprop(RELU, "mask-from-wrong-layer"), case, truth)
    assert {(f.check, f.layer) for f in result.failures} >= {("gradient-values", 0)}


def test_the_step_is_the_oracles():
    """The construction above relies on the FD step being larger than its distance to 0."""
    assert FD_STEP > 3e-6
