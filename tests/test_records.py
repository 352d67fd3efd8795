"""Failure and diagnosis records as data, the one renderer, and the vocabularies they are made of."""

from __future__ import annotations

import dataclasses
import typing

import pytest
import torch

import gradcheck
import reference_impl
from gradcheck.cases import CaseSpec
from gradcheck.checker import CaseResult, Run, fresh_copy_passes
from gradcheck.compare import Mismatch
from gradcheck.config import resolve_settings
from gradcheck.conformance import describe
from gradcheck.diagnosis import diagnose, diagnosed
from gradcheck.oracles import Gradients
from gradcheck.records import (
    Diagnosis,
    Failure,
    describe_failure,
    echo_line,
    explained_elsewhere,
    failure_facts,
    failure_lines,
    headline,
)
from gradcheck.report import build_report, to_json
from gradcheck.truth import FD_MARGIN, FD_RELATIVE_FLOOR, fd_allowance
from gradcheck.vocabulary import CHECKS, KINDS, MODES, Check, CoreCheck, Kind, Mode, parse_mode

CASE = CaseSpec((3, 1), 1, "float32", "cpu", "normal", 0)
MISMATCH = Mismatch(
    mismatched=3,
    total=12,
    max_abs_error=0.5,
    max_rel_error=2.0,
    worst_index=(1, 2),
    allowed_at_worst=1e-4,
    expected_at_worst=0.25,
    got_at_worst=0.75,
)
VALUES = Failure("gradient-values", "value", layer=0, param="W", mismatch=MISMATCH, case=CASE)
ROOT = Diagnosis("layer0-uses-wrong-input", 0.93, "Use x when l == 0.")


# -- the records are data -------------------------------------------------------------------------


def test_a_failure_is_frozen_and_carries_no_text():
    with pytest.raises(dataclasses.FrozenInstanceError):
        VALUES.kind = "state"  # type: ignore[misc]
    assert not any(f.name in ("message", "evidence") for f in dataclasses.fields(Failure))
    assert VALUES.key == ("gradient-values", 0, "W", "value")


def test_a_diagnosis_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ROOT.hint = "something else"  # type: ignore[misc]


# -- messages, built from the fields --------------------------------------------------------------


@pytest.mark.parametrize(
    "failure, message",
    [
        (
            Failure("loss-value", "value", param="loss", expected=1.0, got=2.0, allowed=1e-4),
            "loss is 2, expected 1 (error 1, up to 0.0001 allowed)",
        ),
        (
            Failure("loss-value", "type", param="loss", got="str"),
            "the loss is a str; expected a number or a float tensor",
        ),
        (Failure("returns", "type", got="NoneType"), "returned None; expected a 3-tuple (loss, W_grads, b_grads)"),
        (
            Failure("returns", "type", got="tuple", count=2),
            "returned a 2-tuple; expected a 3-tuple (loss, W_grads, b_grads)",
        ),
        (
            Failure("gradient-count", "count", param="b", expected=3, got=2),
            "b_grads has 2 entries; the network has 3 layers",
        ),
        (
            Failure("gradient-shapes", "shape", layer=1, param="W", expected=[2, 3], got=[3, 2]),
            "W_grads[1] has shape [3, 2]; W[1] has shape [2, 3]",
        ),
        (
            Failure("finite", "nan", layer=0, param="b", count=2, index=(1, 0)),
            "b_grads[0] has 2 non-finite entries, first at index (1, 0); the true gradient is finite",
        ),
        (
            Failure("call", "exception", error="ValueError: no", where="s.py:3: raise"),
            "ValueError: no (at s.py:3: raise)",
        ),
        (Failure("input-mutation", "mutation", tensors=("x",)), "the call modified its input x"),
        (
            Failure("hidden-state", "state", tensors=("W_grads[0]", "b_grads[0]")),
            "calling again with the same inputs changed W_grads[0], b_grads[0]: the result depends on earlier calls",
        ),
        (
            Failure("layer-gradient", "shape", param="delta", expected=[3, 5], got=[5, 3]),
            "propagated δ (da_prev): shape [5, 3], expected [3, 5]",
        ),
    ],
)
def test_each_message_is_built_from_the_failures_fields(failure, message):
    assert describe_failure(failure) == message


def test_a_value_failure_reads_like_assert_close():
    assert describe_failure(VALUES) == (
        "W_grads[0]: 3 / 12 entries (25.0%) off; worst at index (1, 2): got 0.75, expected 0.25 "
        "(error 0.5, up to 0.0001 allowed); max abs error 0.5, max rel error 2"
    )


def test_the_fresh_copy_failure_quotes_what_was_seen_in_sequence():
    passes = fresh_copy_passes(CASE, VALUES)
    assert (passes.check, passes.kind, passes.in_sequence) == ("hidden-state", "state", VALUES)
    assert describe_failure(passes).startswith("fails after earlier calls but passes as the first call of a fresh copy")
    assert describe_failure(passes).endswith(f"(in sequence: {describe_failure(VALUES)})")
    assert failure_facts(passes)["in_sequence"] == describe_failure(VALUES)


# -- the one renderer ------------------------------------------------------------------------------


def test_a_failure_in_full_names_the_bug_the_case_and_the_command():
    assert failure_lines(VALUES, ROOT, "gradcheck check s.py --widths 3,1") == [
        f"gradient-values layer 0 W: {describe_failure(VALUES)}",
        "  likely bug: layer0-uses-wrong-input (93%): Use x when l == 0.",
        "  smallest case: widths [3, 1], batch 1, float32, cpu, normal",
        "  reproduce: gradcheck check s.py --widths 3,1",
    ]


def test_the_renderer_leaves_out_what_it_does_not_have_and_adds_a_search_seed():
    whole_call = Failure("returns", "type", got="int")
    assert failure_lines(whole_call, None, "") == [headline(whole_call)]
    assert headline(whole_call) == "returns: returned a int; expected a 3-tuple (loss, W_grads, b_grads)"
    lines = failure_lines(VALUES, None, "gradcheck check s.py", search_seed=4)
    assert lines[1:] == [
        "  smallest case: widths [3, 1], batch 1, float32, cpu, normal",
        "  search seed: 4",
        "  reproduce: gradcheck check s.py",
    ]


def test_a_consequence_is_explained_elsewhere_in_one_short_line():
    echo = Diagnosis("layer0-uses-wrong-input", 0.9, "fix W[1] first", consequence_of="W[1]")
    again = Diagnosis("sign-flip", 0.9, "", same_bug_as="W[1] (widths [3, 1])")
    assert explained_elsewhere(ROOT) is None and explained_elsewhere(None) is None
    assert explained_elsewhere(echo) == "a consequence of W[1]"
    assert explained_elsewhere(again) == "the same bug as W[1] (widths [3, 1])"
    assert echo_line(VALUES, echo) == "gradient-values layer 0 W in widths [3, 1]: a consequence of W[1]"


def _report_with(*failures: Failure):
    result = CaseResult(CASE)
    result.failures.extend(failures)
    return build_report("s.py", Run([result], [], 0.0), seed=3)


def test_the_cli_the_grader_and_the_plugin_print_a_failure_the_same_way():
    report = dataclasses.replace(_report_with(VALUES), diagnoses={VALUES.key: ROOT})
    lines = report.lines(VALUES)
    assert lines == failure_lines(VALUES, ROOT, report.reproduce(VALUES))
    assert describe(report, VALUES).split("\n") == report.lines(VALUES, search_seed=3)  # the plugin adds its seed
    payload = to_json(report)["failures"][0]
    assert (payload["message"], payload["diagnosis"], payload["hint"]) == (describe_failure(VALUES), ROOT.id, ROOT.hint)


def test_the_json_evidence_keeps_its_keys():
    consequence = Diagnosis("scale-factor", 0.9, "fix W[1]", consequence_of="W[1]", evidence={"factor": 2.0})
    report = dataclasses.replace(_report_with(VALUES), diagnoses={VALUES.key: consequence})
    evidence = to_json(report)["failures"][0]["evidence"]
    assert evidence == {"cases_showing_it": 1, "factor": 2.0, "consequence_of": "W[1]"}


# -- diagnose returns its findings -----------------------------------------------------------------


def test_diagnose_returns_findings_by_key_and_leaves_the_report_alone():
    def sign_flip(x, y, W, b):
        loss, W_grads, b_grads = reference_impl.forward_backward(x, y, W, b)
        return loss, [-g for g in W_grads], b_grads

    report = gradcheck.check(sign_flip, cases=[CaseSpec((3, 2))])
    assert report.diagnoses  # api.check attaches them
    bare = dataclasses.replace(report, diagnoses={})
    failures = list(bare.failures)
    found = diagnose(bare)
    assert set(found) == {f.key for f in bare.failures}
    assert found == report.diagnoses
    assert bare.diagnoses == {} and bare.failures == failures
    assert diagnosed(bare).diagnoses == found and diagnosed(bare) is not bare


# -- one definition of each fact -------------------------------------------------------------------


def test_the_vocabularies_are_the_literal_types_values():
    assert CHECKS == typing.get_args(CoreCheck) and set(CHECKS) < set(typing.get_args(Check))
    assert KINDS == typing.get_args(Kind) and MODES == typing.get_args(Mode) == ("spec", "self", "both")
    assert CHECKS[:2] == ("call", "returns") and CHECKS[-1] == "hidden-state"


def test_a_mode_is_validated_in_one_place_with_its_source_named():
    assert [parse_mode(m) for m in MODES] == list(MODES)
    with pytest.raises(ValueError, match=r"^--mode 'selfish' is not one of spec, self, both$"):
        parse_mode("selfish", source="--mode")
    with pytest.raises(ValueError, match=r"^mode \(keyword argument\): mode 'selfish' is not one of spec, self, both$"):
        resolve_settings(mode="selfish", pyproject={})
    with pytest.raises(ValueError, match=r"^mode 'selfish' is not one of"):
        gradcheck.checker.check_cases(reference_impl.forward_backward, [], mode="selfish")  # type: ignore[arg-type]


def test_the_fd_allowance_is_its_margin_times_the_noise_plus_a_relative_floor():
    W = torch.tensor([[1.0, -4.0]], dtype=torch.float64)
    noise = torch.tensor([[1e-9, 3e-9]], dtype=torch.float64)
    ad = Gradients(torch.tensor(0.0), [W], [torch.zeros(1, 1)])
    fd = Gradients(torch.tensor(0.0), [W], [torch.zeros(1, 1)], W_noise=[noise], b_noise=[torch.zeros(1, 1)])
    expected = FD_MARGIN * noise + FD_RELATIVE_FLOOR * 4.0
    assert torch.equal(fd_allowance(ad, fd, 0, "W"), expected)
