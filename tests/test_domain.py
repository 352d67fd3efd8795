"""The case domain: built-in cases fitted into it, the search kept inside it, bad fields refused."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings

from gradcheck.cases import CaseSpec, builtin_cases, make_case
from gradcheck.domain import DEFAULT_DOMAIN, Domain
from gradcheck.presets import get_preset

BUILTIN = builtin_cases(batch=True)


def test_the_default_domain_keeps_every_builtin_case_as_it_is():
    assert DEFAULT_DOMAIN.fit_all(BUILTIN) == BUILTIN


def test_a_fixed_output_width_is_set_on_every_case():
    fitted = Domain(output_width=1).fit_all(BUILTIN)
    assert fitted and all(case.widths[-1] == 1 for case in fitted)
    assert len(fitted) == len(set(fitted))  # cases that became the same are kept once


def test_depth_regime_and_dtype_outside_the_domain_are_left_out():
    fitted = Domain(min_depth=2, max_depth=2, regimes=("normal",), dtypes=("float64",)).fit_all(BUILTIN)
    assert fitted
    assert all(c.depth == 2 and c.regime == "normal" and c.dtype == "float64" for c in fitted)


def test_widths_and_batches_are_clamped_into_the_domain():
    fitted = Domain(min_width=2, max_width=3, min_batch=2, max_batch=3).fit_all(BUILTIN)
    assert all(2 <= w <= 3 for c in fitted for w in c.widths)
    assert all(2 <= c.batch <= 3 for c in fitted)


def test_a_domain_no_builtin_case_fits_gets_its_own_smallest_case():
    domain = Domain(min_depth=6, max_depth=6, input_width=400, output_width=10)
    [case] = domain.fit_all(BUILTIN)
    assert case.widths == (400, 1, 1, 1, 1, 1, 10)


@settings(max_examples=60, database=None, deadline=None)
@given(
    Domain(min_depth=2, max_depth=2, output_width=1, max_width=3, regimes=("normal",)).search(
        batch=True, devices=("cpu",)
    )
)
def test_the_search_draws_only_inside_the_domain(case):
    assert case.depth == 2 and case.widths[-1] == 1 and max(case.widths[:-1]) <= 3
    assert case.regime == "normal" and 1 <= case.batch <= 5


def test_one_hot_targets_whatever_the_loss():
    spec = get_preset("coursera-ml-ex4")  # bce over K outputs, each example one class
    fitted = Domain(targets="one-hot").fit(CaseSpec((4, 3, 5), batch=5))
    assert fitted is not None
    y = make_case(fitted, spec).y
    assert torch.equal(y.sum(dim=0), torch.ones(5, dtype=y.dtype))
    multi = make_case(CaseSpec((4, 3, 5), batch=5), spec).y  # the loss's own: 0/1 per output
    assert not torch.equal(multi.sum(dim=0), torch.ones(5, dtype=y.dtype))


def test_the_reproduction_line_carries_what_differs_from_the_default():
    domain = Domain(output_width=1, regimes=("normal", "tiny"))
    assert domain.cli_args() == "--domain-option output_width=1 --domain-option regimes=normal,tiny"
    assert DEFAULT_DOMAIN.cli_args() == ""
    case = Domain(targets="one-hot").fit(CaseSpec((3, 2)))
    assert case is not None and "--domain-option targets=one-hot" in case.cli_args()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"min_depth": 3, "max_depth": 1}, "min_depth=3 is larger than max_depth=1"),
        ({"output_width": 0}, "output_width=0 must be at least 1"),
        ({"max_batch": True}, "max_batch=True must be an integer"),
        ({"regimes": ("normal", "huge")}, "'huge' is not one of"),
        ({"regimes": ()}, "regimes=.* is empty"),
        ({"dtypes": "float64"}, "must be tuples of names"),
        ({"targets": "labels"}, "targets='labels' is not one of loss, one-hot, multi-label"),
    ],
)
def test_bad_fields_are_refused_with_the_argument(fields, message):
    with pytest.raises(ValueError, match=message):
        Domain(**fields)
