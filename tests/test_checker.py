"""The checker core on hand-made implementations: tolerances, arbitration and failure records."""

import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import gradcheck
import gradcheck.truth as truth
import reference_impl
from gradcheck.cases import CaseSpec
from gradcheck.records import describe_failure

ONE_CASE = [CaseSpec((4, 3, 2), dtype="float64")]


def with_error_in(layer, param, index, relative):
    """The reference, except that one gradient entry is off by ``relative``."""

    def forward_backward(x, y, W, b):
        loss, W_grads, b_grads = reference_impl.forward_backward(x, y, W, b)
        grads = W_grads if param == "W" else b_grads
        grads[layer] = grads[layer].clone()
        grads[layer][index] *= 1 + relative
        return loss, W_grads, b_grads

    return forward_backward


@pytest.mark.parametrize("layer,param,index", [(0, "W", (2, 3)), (1, "W", (0, 1)), (0, "b", (1, 0)), (1, "b", (1, 0))])
def test_a_1e3_relative_error_in_one_float64_entry_is_caught_where_it_is(layer, param, index):
    report = gradcheck.check(with_error_in(layer, param, index, 1e-3), cases=ONE_CASE)
    [failure] = report.failures
    assert (failure.check, failure.layer, failure.param) == ("gradient-values", layer, param)
    assert failure.mismatch.worst_index == index
    assert failure.mismatch.mismatched == 1
    assert "worst at index" in describe_failure(failure) and "allowed" in describe_failure(failure)


def test_the_same_error_in_float32_is_forgiven_only_when_it_is_round_off():
    float32 = [CaseSpec((4, 3, 2), dtype="float32")]
    assert gradcheck.check(with_error_in(0, "W", (2, 3), 1e-6), cases=float32).passed
    assert not gradcheck.check(with_error_in(0, "W", (2, 3), 1e-2), cases=float32).passed


@settings(max_examples=25, deadline=None)
@given(
    widths=st.lists(st.integers(1, 16), min_size=2, max_size=6),
    batch=st.integers(1, 4),
    regime=st.sampled_from(["normal", "saturated", "tiny", "large"]),
    seed=st.integers(0, 1000),
)
def test_a_correct_float32_implementation_never_fails(widths, batch, regime, seed):
    cases = [CaseSpec(tuple(widths), batch, "float32", "cpu", regime, seed)]
    report = gradcheck.check(reference_impl.forward_backward, batch=True, cases=cases)
    assert report.passed, [describe_failure(f) for f in report.failures]


def test_when_the_oracles_disagree_nobody_is_blamed(monkeypatch):
    real = truth.finite_difference_oracle

    def broken(spec, case, **options):
        grads = real(spec, case, **options)
        grads.W[1] = grads.W[1] + 1.0  # the harness's own FD goes wrong on W[1]
        return grads

    monkeypatch.setattr(truth, "finite_difference_oracle", broken)
    report = gradcheck.check(reference_impl.forward_backward, cases=ONE_CASE)
    assert report.passed
    assert any("W[1]" in note and "finite differences disagree" in note for note in report.inconclusive)
    # ... and a real bug elsewhere is still caught.
    assert not gradcheck.check(with_error_in(0, "b", (1, 0), 1e-2), cases=ONE_CASE).passed


def raises_inside(x, y, W, b):
    return helper(W)


def helper(W):
    return W[7]  # IndexError, on this very line


def test_an_exception_becomes_a_failure_quoting_the_implementations_line():
    [failure] = gradcheck.check(raises_inside, cases=ONE_CASE).failures
    assert (failure.check, failure.kind) == ("call", "exception")
    message = describe_failure(failure)
    assert message.startswith("IndexError: list index out of range")
    assert "test_checker.py" in message and "return W[7]" in message


def test_sys_exit_and_timeouts_are_failures_not_crashes():
    exits = gradcheck.check(lambda x, y, W, b: sys.exit(3), cases=ONE_CASE).failures[0]
    assert describe_failure(exits).startswith("called sys.exit(3)")

    def spins(x, y, W, b):
        while True:
            pass

    report = gradcheck.check(spins, cases=ONE_CASE * 3, timeout=0.2)
    assert [f.kind for f in report.failures] == ["timeout"]
    assert len(report.run.skipped) == 2  # never called again after a hang


def returning(make):
    def forward_backward(x, y, W, b):
        loss, W_grads, b_grads = reference_impl.forward_backward(x, y, W, b)
        return make(loss, list(W_grads), list(b_grads))

    return forward_backward


class Lying(torch.Tensor):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize(
    "make,check,kind",
    [
        (lambda loss, Wg, bg: (loss, Wg), "returns", "type"),
        (lambda loss, Wg, bg: (loss, Wg[:1], bg), "gradient-count", "count"),
        (lambda loss, Wg, bg: (loss, [None, *Wg[1:]], bg), "gradient-types", "missing"),
        (lambda loss, Wg, bg: (loss, [Wg[0].as_subclass(Lying), *Wg[1:]], bg), "gradient-types", "subclass"),
        (lambda loss, Wg, bg: (loss, [Wg[0].T, *Wg[1:]], bg), "gradient-shapes", "shape"),
        (lambda loss, Wg, bg: (loss, [Wg[0].float(), *Wg[1:]], bg), "gradient-dtypes", "dtype"),
        (lambda loss, Wg, bg: (loss, [Wg[0] * float("nan"), *Wg[1:]], bg), "finite", "nan"),
        (lambda loss, Wg, bg: (loss * 2, Wg, bg), "loss-value", "value"),
        (lambda loss, Wg, bg: ("0.5", Wg, bg), "loss-value", "type"),
    ],
)
def test_each_structural_failure_is_named(make, check, kind):
    failures = gradcheck.check(returning(make), cases=ONE_CASE).failures
    assert (failures[0].check, failures[0].kind) == (check, kind), [describe_failure(f) for f in failures]


def test_the_seeds_elementwise_loss_and_a_python_float_are_both_accepted():
    assert gradcheck.check(returning(lambda loss, Wg, bg: (float(loss), Wg, bg)), cases=ONE_CASE).passed
    elementwise = returning(lambda loss, Wg, bg: (torch.full((2, 1), float(loss) / 2, dtype=loss.dtype), Wg, bg))
    assert gradcheck.check(elementwise, cases=ONE_CASE).passed


def test_mutating_an_input_is_caught_and_named():
    def mutates_x(x, y, W, b):
        result = reference_impl.forward_backward(x.clone(), y, W, b)
        x.mul_(2)
        return result

    [failure] = gradcheck.check(mutates_x, cases=ONE_CASE).failures
    assert (failure.check, failure.tensors) == ("input-mutation", ("x",))


def test_a_report_keeps_the_smallest_case_for_each_problem():
    sign = returning(lambda loss, Wg, bg: (loss, [-g for g in Wg], bg))
    report = gradcheck.check(sign)
    first = report.failures[0]
    assert first.case.widths == (1, 1) and first.layer == 0
    assert report.sightings[first.key] >= 2
