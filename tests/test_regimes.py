"""Value regimes mean the same under every specification: "saturated" and "large" stay inside
the activations' saturation region, where a careful textbook implementation is finite in
float32 and float64; overflow territory is the "extreme" regime, drawn only when asked for."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings

from gradcheck import strategies as gs
from gradcheck.cases import ROBUSTNESS_REGIMES, CaseSpec, make_case
from gradcheck.domain import DEFAULT_DOMAIN
from gradcheck.presets import PRESETS

SPECS = [pytest.param(spec, id=name) for name, spec in PRESETS.items()]
WIDTHS = [(7, 5, 3, 1), (3, 4, 3), (6, 5, 4, 3, 2), (1, 1)]


def _textbook_softmax_nll(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """CS231n's textbook loss: shift by the max, exponentiate, normalise, then −log p_y."""
    shifted = logits - logits.max(dim=0, keepdim=True).values
    probs = shifted.exp() / shifted.exp().sum(dim=0, keepdim=True)
    return -(probs * y).sum(dim=0).log()


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("regime", ["saturated", "large"])
@pytest.mark.parametrize("widths", WIDTHS)
def test_bounded_regimes_keep_unbounded_layers_and_logits_within_the_saturation_region(spec, regime, widths):
    case = make_case(CaseSpec(widths, batch=3, regime=regime), spec)
    zs, _ = spec.forward(case.x, case.W, case.b)
    acts = spec.activations(len(zs))
    for layer, (act, z) in enumerate(zip(acts, zs)):
        logits = layer == len(zs) - 1 and spec.criterion in ("bce", "softmax_ce")
        if act.name not in ("sigmoid", "tanh") or logits:
            assert float(z.abs().max()) <= 30.0 + 1e-9


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("regime", ["saturated", "large"])
def test_a_textbook_softmax_stays_finite_in_the_bounded_regimes(dtype, regime):
    spec = PRESETS["cs231n-two-layer"]
    for seed in range(20):
        case = make_case(CaseSpec((7, 5, 4), batch=5, regime=regime, seed=seed), spec)
        zs, _ = spec.forward(case.x.to(dtype), [w.to(dtype) for w in case.W], [v.to(dtype) for v in case.b])
        assert torch.isfinite(_textbook_softmax_nll(zs[-1], case.y.to(dtype))).all(), f"seed {seed}"


def test_the_extreme_regime_is_where_it_overflows():
    spec = PRESETS["cs231n-two-layer"]
    case = make_case(CaseSpec((7, 5, 4), batch=5, regime="extreme"), spec)
    zs, _ = spec.forward(case.x.float(), [w.float() for w in case.W], [v.float() for v in case.b])
    assert not torch.isfinite(_textbook_softmax_nll(zs[-1], case.y.float())).all()


def test_saturated_cases_still_reach_deep_saturation():
    """The bound only scales down, and only where needed: a sigmoid network under squared error
    keeps the raw draw, hundreds deep; a capped ReLU network still reaches flat logits."""
    seed_case = make_case(CaseSpec((7, 5, 3, 1), regime="saturated"), PRESETS["seed"])
    zs, _ = PRESETS["seed"].forward(seed_case.x, seed_case.W, seed_case.b)
    assert max(float(z.abs().max()) for z in zs) > 100.0
    spec = PRESETS["cs231n-two-layer"]
    case = make_case(CaseSpec((7, 5, 4), batch=3, regime="saturated"), spec)
    zs, _ = spec.forward(case.x, case.W, case.b)
    assert float(zs[-1].abs().max()) > 20.0


@settings(max_examples=40, database=None, deadline=None)
@given(gs.case_specs())
def test_the_default_search_never_draws_the_robustness_regimes(case):
    assert case.regime not in ROBUSTNESS_REGIMES


def test_the_default_domain_leaves_the_robustness_regimes_out():
    assert not set(DEFAULT_DOMAIN.regimes) & set(ROBUSTNESS_REGIMES)
