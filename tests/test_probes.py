"""Sampled finite differences: exact gradients agree with every probe, wrong ones are caught and
placed, and the probes are reproducible from the seed."""

from __future__ import annotations

import pytest
import torch

from gradcheck.cases import CaseSpec, make_case
from gradcheck.oracles import autograd_oracle
from gradcheck.presets import PRESETS
from gradcheck.probes import probe_disagreements, sampled_finite_differences
from gradcheck.spec import SEED

CASE = CaseSpec(widths=(6, 5, 4, 3), batch=4, seed=1)
SPECS = [pytest.param(SEED, id="seed"), *(pytest.param(spec, id=name) for name, spec in PRESETS.items())]


@pytest.mark.parametrize("spec", SPECS)
def test_autograd_agrees_with_every_probe_under_every_preset(spec):
    case = make_case(CASE, spec)
    exact = autograd_oracle(spec, case)
    sampled = sampled_finite_differences(spec, case, seed=3)
    assert probe_disagreements(exact.param, sampled) == {}
    assert {(p.layer, p.param) for p in sampled.probes} == {(layer, name) for layer in range(3) for name in "Wb"}


@pytest.mark.parametrize(("layer", "param"), [(0, "W"), (1, "b"), (2, "W")])
@pytest.mark.parametrize("corruption", ["double one entry", "flip the sign", "scale by 1.01"])
def test_a_wrong_gradient_is_caught_on_its_own_tensor(layer, param, corruption):
    case = make_case(CASE, SEED)
    exact = autograd_oracle(SEED, case)
    wrong = exact.param(layer, param).clone()
    flat = wrong.view(-1)
    worst = int(flat.abs().argmax())
    if corruption == "double one entry":
        flat[worst] *= 2
    elif corruption == "flip the sign":
        wrong.neg_()
    else:
        wrong.mul_(1.01)

    def gradient_of(at_layer: int, name: str) -> torch.Tensor:
        return wrong if (at_layer, name) == (layer, param) else exact.param(at_layer, name)

    notes = probe_disagreements(gradient_of, sampled_finite_differences(SEED, case, seed=0))
    assert list(notes) == [(layer, param)]
    assert f"{param}[{layer}]" in notes[(layer, param)]


def test_probes_are_reproducible_from_the_seed_and_move_with_it():
    case = make_case(CASE, SEED)
    first, again = (sampled_finite_differences(SEED, case, seed=5) for _ in range(2))
    other = sampled_finite_differences(SEED, case, seed=6)
    assert all(torch.equal(p.direction, q.direction) for p, q in zip(first.probes, again.probes))
    assert not all(torch.equal(p.direction, q.direction) for p, q in zip(first.probes, other.probes))


def test_the_cost_is_a_few_losses_per_tensor_whatever_the_width():
    small = sampled_finite_differences(SEED, make_case(CaseSpec(widths=(4, 3, 1), batch=2)))
    large = sampled_finite_differences(SEED, make_case(CaseSpec(widths=(256, 256, 1), batch=2)))
    # 4 steps x (2 directions + 4 coordinates) per tensor; the 1-entry output bias has 1 coordinate
    assert large.loss_evaluations == 4 * (6 + 6 + 6 + (2 + 1))
    assert small.loss_evaluations <= large.loss_evaluations


def test_a_probe_across_a_relu_kink_is_left_out_and_counted():
    spec = PRESETS["cs231n-two-layer"]
    case = make_case(CaseSpec(widths=(3, 4, 2), batch=2, seed=0), spec)
    case.b[0].copy_(-(case.W[0] @ case.x)[:, :1])  # hidden pre-activations of the first example at 0
    notes = probe_disagreements(autograd_oracle(spec, case).param, sampled_finite_differences(spec, case))
    assert any(len(key) == 3 and key[2] == "kink" for key in notes)
    assert all(len(key) == 3 for key in notes)  # nothing blamed on autograd


def test_negative_counts_are_refused_with_the_argument():
    with pytest.raises(ValueError, match="directions=-1"):
        sampled_finite_differences(SEED, make_case(CASE), directions=-1)
