"""The case domain as a setting: presets bring their course's domain, pyproject, the command line
and the API narrow it field by field, errors name the source, and the cases stay inside it."""

from __future__ import annotations

import pytest

import gradcheck
import reference_impl.general
from gradcheck.config import SettingsError, Source, resolve, table_source
from gradcheck.presets import get_preset, preset_domain

DLAI = get_preset("deeplearning-ai")


def binary_classifier(x, y, W, b):
    """deeplearning.ai style: written for one output unit, and it says so."""
    assert W[-1].shape[0] == 1, "this model has one output unit"
    up = [t.double() for t in (x, y)]  # computed in float64, returned in the caller's dtype
    _, dW, db = reference_impl.general.forward_backward(
        *up,
        [w.double() for w in W],
        [v.double() for v in b],
        hidden="relu",
        output="sigmoid",
        criterion="bce",
        batch_reduction="mean",
    )
    loss = DLAI.loss(*up, [w.double() for w in W], [v.double() for v in b])  # bce from the logits
    return loss.to(x.dtype), [g.to(x.dtype) for g in dW], [g.to(x.dtype) for g in db]


def test_a_preset_brings_its_courses_domain():
    assert preset_domain("deeplearning-ai").output_width == 1
    assert preset_domain("cs231n-two-layer").max_depth == 2
    assert resolve(table_source({"spec": "deeplearning-ai"}, label="t")).case_domain.output_width == 1


def test_one_command_line_field_overrides_one_pyproject_field():
    pyproject = table_source({"domain": {"output_width": 1, "max_depth": 3}}, label="p", table_name="tool.gradcheck")
    command = Source(
        "(command line)", {"domain.max_depth": "2"}, {"domain.max_depth": "--domain-option max_depth=2"}, text=True
    )
    domain = resolve(command, pyproject).case_domain
    assert (domain.output_width, domain.max_depth) == (1, 2)


def test_list_fields_read_from_the_command_line():
    command = Source("(command line)", {"domain.regimes": "normal,tiny"}, {}, text=True)
    assert resolve(command).case_domain.regimes == ("normal", "tiny")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"domain.widest": "3"}, r"--domain-option widest=3 \(command line\): the domain has no field 'widest'"),
        ({"domain.min_depth": "4", "domain.max_depth": "2"}, r"min_depth=4 is larger than max_depth=2"),
        ({"domain.regimes": "normal,huge"}, r"'huge' is not one of"),
    ],
)
def test_a_bad_domain_field_is_one_line_naming_its_source(values, message):
    flags = {k: f"--domain-option {k.split('.')[1]}={v}" for k, v in values.items()}
    with pytest.raises(SettingsError, match=message):
        resolve(Source("(command line)", values, flags, text=True))


def test_a_binary_classifier_passes_inside_its_domain_and_fails_outside():
    inside = gradcheck.check(binary_classifier, spec=DLAI, max_examples=20)
    assert inside.passed, [f.check for f in inside.failures]
    assert {r.case.widths[-1] for r in inside.run.results} == {1}
    wider = resolve(Source("", {"spec": DLAI, "domain.output_width": 2}, {}))
    outside = gradcheck.check(binary_classifier, settings=wider, max_examples=0)
    assert not outside.passed and outside.failures[0].check == "call"


def test_the_reproduction_line_carries_a_configured_domain():
    settings = resolve(Source("", {"spec": "deeplearning-ai", "domain.max_depth": 2}, {}))
    assert "--domain-option max_depth=2" in settings.cli_args()
