"""gradcheck.strategies: valid values, eager argument checks, shrinking toward the simplest case."""

import itertools
import re

import pytest
import torch
from hypothesis import find as hypothesis_find
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument, NoSuchExample

from gradcheck import strategies as gs
from gradcheck.cases import REGIMES, CaseSpec


def find(strategy, condition):
    """The minimal example hypothesis shrinks to, with no database to remember it."""
    return hypothesis_find(strategy, condition, settings=settings(database=None, max_examples=500))


@given(gs.architectures(min_depth=2, max_depth=3, min_width=2, max_width=4))
def test_architectures_respect_their_bounds(widths):
    assert isinstance(widths, tuple)
    assert 3 <= len(widths) <= 4
    assert all(2 <= w <= 4 for w in widths)


@given(gs.case_specs(batch=gs.batch_sizes(max_batch=3), dtype=gs.dtypes(half=True)))
def test_case_specs_are_valid_and_cover_the_contract(spec):
    assert isinstance(spec, CaseSpec)
    assert 1 <= spec.batch <= 3
    assert spec.regime in REGIMES
    assert spec.device == "cpu" or spec.device.startswith(("cuda", "mps"))


@given(gs.cases(widths=gs.architectures(max_depth=3), dtype=gs.dtypes(), device=gs.devices(names=["cpu"])))
def test_cases_are_built_from_their_spec(case):
    n = case.spec.widths
    assert case.x.shape == (n[0], case.spec.batch) and case.y.shape == (n[-1], case.spec.batch)
    assert [tuple(w.shape) for w in case.W] == [(m, k) for k, m in itertools.pairwise(n)]
    assert [tuple(v.shape) for v in case.b] == [(m, 1) for m in n[1:]]
    assert {t.dtype for t in case.tensors().values()} == {getattr(torch, case.spec.dtype)}


def test_everything_shrinks_to_the_simplest_case():
    assert find(gs.case_specs(batch=gs.batch_sizes()), lambda s: True) == CaseSpec(
        (1, 1), 1, "float64", "cpu", "normal", 0
    )


@pytest.mark.parametrize(
    "condition, minimal",
    [
        (lambda s: s.depth >= 3, CaseSpec((1, 1, 1, 1))),
        (lambda s: max(s.widths) >= 3, CaseSpec((1, 3))),
        (lambda s: s.batch > 1, CaseSpec((1, 1), batch=2)),
        (lambda s: s.dtype == "float32", CaseSpec((1, 1), dtype="float32")),
        (lambda s: s.regime == "saturated", CaseSpec((1, 1), regime="saturated")),
        (lambda s: s.seed > 0, CaseSpec((1, 1), seed=1)),
    ],
    ids=["deep", "wide", "batched", "float32", "saturated", "seeded"],
)
def test_a_failure_shrinks_everything_it_does_not_need(condition, minimal):
    assert find(gs.case_specs(batch=gs.batch_sizes()), condition) == minimal


def test_devices_shrink_to_cpu_and_keep_the_order_given():
    assert find(gs.devices(names=["cpu", "meta"]), lambda d: True) == "cpu"
    assert find(gs.devices(names=["cpu", "meta"]), lambda d: d != "cpu") == "meta"


def test_half_precision_only_on_request():
    with pytest.raises(NoSuchExample):
        find(gs.dtypes(), lambda d: d in gs.HALF_PRECISION)
    assert find(gs.dtypes(half=True), lambda d: d in gs.HALF_PRECISION) == "float16"


def test_building_strategies_does_not_look_for_gpus(monkeypatch):
    """Importing or building must not touch CUDA; drawing a device is the first time it may."""

    def no_cuda_yet():
        raise AssertionError("torch.cuda.device_count() called before a device was drawn")

    monkeypatch.setattr(torch.cuda, "device_count", no_cuda_yet)
    strategy = gs.case_specs()  # every default, devices() included
    gs.cases()
    with pytest.raises(AssertionError, match="before a device was drawn"):
        find(strategy, lambda s: True)


def test_available_devices_start_with_the_cpu():
    found = gs.available_devices()
    assert found == (("cpu", "cuda") if torch.cuda.device_count() else ("cpu",))  # one GPU stands for all


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: gs.architectures(min_depth=3, max_depth=1), "min_depth=3 is larger than max_depth=1"),
        (lambda: gs.architectures(min_width=0), "min_width=0 must be at least 1"),
        (lambda: gs.architectures(max_width=2.5), "max_width=2.5 must be an integer"),
        (lambda: gs.architectures(max_depth=True), "max_depth=True must be an integer"),
        (lambda: gs.batch_sizes(min_batch=5, max_batch=2), "min_batch=5 is larger than max_batch=2"),
        (lambda: gs.regimes(names=["normal", "hot"]), "'hot' is not one of normal, saturated, tiny, large"),
        (lambda: gs.regimes(names=[]), "names=[] is empty"),
        (lambda: gs.regimes(names="normal"), "names='normal' must be a sequence of names"),
        (lambda: gs.dtypes(half="yes"), "half='yes' must be True or False"),
        (lambda: gs.devices(names=["cpu", "gpu0"]), "'gpu0' is not a torch device name"),
        (lambda: gs.devices(names=[]), "names=[] must be a non-empty sequence"),
        (lambda: gs.seeds(max_seed=-1), "max_seed=-1 must be at least 0"),
        (lambda: gs.case_specs(widths=(3, 1)), "widths=(3, 1) must be a hypothesis strategy"),
        (lambda: gs.cases(dtype="float32"), "dtype='float32' must be a hypothesis strategy"),
    ],
)
def test_bad_arguments_fail_when_the_strategy_is_built(build, message):
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        build()


def test_strategies_compose_with_plain_hypothesis():
    deep_float32 = gs.case_specs(widths=gs.architectures(min_depth=3), dtype=st.just("float32"))
    assert find(deep_float32, lambda s: True) == CaseSpec((1, 1, 1, 1), dtype="float32")


def test_the_ci_profile_extends_hypothesis_own():
    ci = settings.get_profile("ci")
    assert ci.deadline is None and ci.derandomize and ci.database is None  # built-in ci, kept
    assert settings.get_profile("default").deadline is None
    assert settings.get_profile("dev").max_examples < settings.get_profile("thorough").max_examples
