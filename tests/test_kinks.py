"""Kink awareness: finite differences that straddle a ReLU kink are flagged, and never blamed."""

import pytest
import torch

from gradcheck.cases import CaseSpec, make_case
from gradcheck.checker import check_case
from gradcheck.oracles import FD_STEP, autograd_oracle, finite_difference_oracle
from gradcheck.spec import Spec
from gradcheck.truth import compute_truth

RELU = Spec("relu-sse", batch=True, hidden="relu", output="identity", criterion="sse")
LEAKY = Spec("leaky-sse", batch=True, hidden="leaky_relu(0.1)", output="identity", criterion="sse")


def relu_backprop(spec: Spec, bug: str | None = None):
    """A correct (or deliberately wrong) hand-written backprop for ReLU-family hidden layers."""
    slope = spec.hidden.slope if spec.hidden.name == "leaky_relu" else 0.0

    def forward_backward(x, y, W, b):
        a, zs, acts = x, [], [x]
        for l, (W_l, b_l) in enumerate(zip(W, b)):
            z = W_l @ a + b_l
            a = z if l == len(W) - 1 else torch.where(z > 0, z, slope * z)
            zs.append(z), acts.append(a)
        loss = ((a - y) ** 2).sum()
        delta = 2 * (a - y)
        W_grads, b_grads = [None] * len(W), [None] * len(W)
        for l in reversed(range(len(W))):
            if l < len(W) - 1:
                mask_from = zs[l + 1] if bug == "mask-from-wrong-layer" and zs[l + 1].shape == zs[l].shape else zs[l]
                delta = (W[l + 1].T @ delta) * torch.where(mask_from > 0, 1.0, slope).to(x.dtype)
            W_grads[l] = delta @ acts[l].T
            b_grads[l] = delta.sum(1, keepdim=True)
        return loss, W_grads, b_grads

    return forward_backward


def near_kinks(spec: Spec, widths=(3, 4, 4, 2), batch=2, distance=3e-6):
    """A case where some hidden pre-activations sit ``distance`` from 0, inside the FD step."""
    case = make_case(CaseSpec(widths, batch), spec)
    for layer in range(len(widths) - 2):
        zs, _ = spec.forward(case.x, case.W, case.b)
        z = zs[layer]
        case.b[layer][::2] -= z[::2, :1] - distance  # every other unit: column 0 just above 0
    return case


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
