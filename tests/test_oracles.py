"""The three oracles agree with each other, and the finite differences know their own error."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradcheck.oracles as oracles
from gradcheck.cases import CaseSpec, make_case
from gradcheck.spec import SEED


def max_error(a, b):
    return max(float((x - y).abs().max()) for x, y in zip(a, b))


@settings(max_examples=40, deadline=None)
@given(
    widths=st.lists(st.integers(1, 12), min_size=2, max_size=6),
    batch=st.integers(1, 3),
    regime=st.sampled_from(["normal", "tiny", "large", "saturated"]),
)
def test_finite_differences_match_autograd_within_their_own_noise(widths, batch, regime):
    case = make_case(CaseSpec(tuple(widths), batch, regime=regime))
    ad = oracles.autograd_oracle(SEED, case)
    fd = oracles.finite_difference_oracle(SEED, case)
    for layer in range(len(widths) - 1):
        for param in ("W", "b"):
            error = (fd.param(layer, param) - ad.param(layer, param)).abs()
            assert bool((error <= fd.noise(layer, param)).all()), (layer, param, float(error.max()))


def test_reference_matches_autograd():
    case = make_case(CaseSpec((7, 5, 3, 1), 3))
    ad, ref = oracles.autograd_oracle(SEED, case), oracles.reference_oracle(case)
    assert max_error(ad.W + ad.b, ref.W + ref.b) < 1e-15
    assert math.isclose(float(ad.loss), float(ref.loss), rel_tol=1e-14)


def test_fd_is_accurate_on_the_benchmark_network():
    """The target in docs/architecture.md: max abs error vs autograd at most 1e-8 on 64-64-64-64-1."""
    case = make_case(CaseSpec((64, 64, 64, 64, 1)))
    ad, fd = oracles.autograd_oracle(SEED, case), oracles.finite_difference_oracle(SEED, case)
    assert max_error(fd.W + fd.b, ad.W + ad.b) <= 1e-8


def test_without_the_bound_the_noise_is_the_round_off_floor_below_the_bound():
    case = make_case(CaseSpec((4, 3, 2), 2, regime="large"))
    full = oracles.finite_difference_oracle(SEED, case)
    quick = oracles.finite_difference_oracle(SEED, case, error_bound=False)
    assert max_error(full.W + full.b, quick.W + quick.b) == 0.0  # the same ±h differences
    for layer in range(2):
        for param in ("W", "b"):
            assert bool((quick.noise(layer, param) <= full.noise(layer, param)).all())
            assert quick.noise(layer, param).unique().numel() == 1


def test_chunking_does_not_change_the_result(monkeypatch):
    case = make_case(CaseSpec((5, 4, 3), 2))
    whole = oracles.finite_difference_oracle(SEED, case)
    monkeypatch.setattr(oracles, "FD_MAX_COLUMNS", 8)  # forces one parameter per chunk
    chunked = oracles.finite_difference_oracle(SEED, case)
    assert max_error(whole.W + whole.b, chunked.W + chunked.b) <= 1e-10  # BLAS may sum in another order


def test_autograd_oracle_keeps_saturated_gradients():
    """σ′ as a(1 − a) rounds to 0 at z = 40 in float64; the oracle must not."""
    case = make_case(CaseSpec((1, 1)))
    case.x.fill_(1.0), case.W[0].fill_(40.0), case.b[0].fill_(0.0), case.y.fill_(0.0)
    ad = oracles.autograd_oracle(SEED, case)
    exact = 1.0 * math.exp(-40.0)  # (a − y)·σ′(40)·x with a ≈ 1
    assert math.isclose(float(ad.W[0]), exact, rel_tol=1e-6)


def test_deltas_are_the_gradients_of_the_pre_activations():
    case = make_case(CaseSpec((4, 3, 2), 2))
    ad = oracles.autograd_oracle(SEED, case)
    inputs = [case.x, *ad.activations[:-1]]
    for layer, delta in enumerate(ad.deltas):
        torch.testing.assert_close(ad.W[layer], delta @ inputs[layer].T)
        torch.testing.assert_close(ad.b[layer], delta.sum(dim=1, keepdim=True))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_oracles_work_in_float64_whatever_the_case_dtype(dtype):
    case = make_case(CaseSpec((3, 2), dtype=dtype))
    for grads in (oracles.autograd_oracle(SEED, case), oracles.finite_difference_oracle(SEED, case)):
        assert all(g.dtype == torch.float64 and g.device.type == "cpu" for g in grads.W + grads.b)
