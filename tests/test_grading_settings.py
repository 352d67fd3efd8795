"""The grader follows a rubric's spec, adapter and mode (issue 6).

A CS231n-style submission (tests/corpus/shapes/cs231n_two_layer.py: a class with a params dict,
``loss(X, y, reg) -> (loss, grads)``, numpy) is graded in the sandbox under a rubric that names
the ``cs231n-two-layer`` spec and the ``cs231n`` adapter: the adapter runs here, in the grader,
and the sandbox only performs the call it describes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gradcheck.config import Settings
from gradcheck.grading import DEFAULT_RUBRIC, RubricError, parse_rubric
from gradcheck.grading.assess import assess, limits_for
from gradcheck.grading.discover import Source
from gradcheck.presets import get_preset
from gradcheck.records import describe_failure

SHAPES = Path(__file__).resolve().parent / "corpus" / "shapes"
CS231N = SHAPES / "cs231n_two_layer.py"

LOSS_TEST = """[[tests]]
name = "Loss"
points = 1
checks = ["loss-value"]
params = ["loss"]
"""

RUBRIC = """
name = "CS231n two-layer net"
function = "{function}"
spec = "cs231n-two-layer"
adapter = "cs231n"
mode = "{mode}"
max_examples = {max_examples}

[sandbox]
timeout = 5
memory_mb = 512

[[tests]]
name = "Loss"
points = 1
checks = ["loss-value"]
params = ["loss"]

[[tests]]
name = "Gradients"
points = 4
checks = ["gradient-count", "gradient-types", "gradient-shapes", "gradient-dtypes", "finite", "gradient-values"]
params = ["W", "b"]

[[tests]]
name = "Inputs not modified"
points = 1
checks = ["input-mutation"]
partial = false
"""


def rubric_text(function: str, mode: str = "spec", max_examples: int = 0) -> str:
    text = RUBRIC.format(function=function, mode=mode, max_examples=max_examples)
    return text.replace(LOSS_TEST, "") if mode == "self" else text  # self mode does not judge the loss value


def grade(function: str, mode: str = "spec", max_examples: int = 0):
    rubric = parse_rubric(rubric_text(function, mode, max_examples), "cs231n rubric")
    source = Source(name=CS231N.name, path=CS231N, entry=CS231N)
    result = assess(source, rubric, limits=limits_for(rubric))
    assert result.load.ok, result.load.error
    return result


def by_test(result):
    return {t.test.name: t.score for t in result.score.tests}


def test_rubric_settings_are_parsed_by_the_one_settings_function():
    rubric = parse_rubric(RUBRIC.format(function="TwoLayerNet", mode="both", max_examples=0), "r")
    assert rubric.settings.spec == get_preset("cs231n-two-layer")
    assert rubric.settings.adapter.name == "cs231n" and rubric.settings.mode == "both"
    assert rubric.batch is True  # the spec's, when the rubric does not say
    table = parse_rubric(
        RUBRIC.replace('spec = "cs231n-two-layer"', "").format(function="f", mode="spec", max_examples=0)
        + '\n[spec]\npreset = "cs231n-two-layer"\nl2 = 0.1\n',
        "r",
    )
    assert table.settings.spec.l2 == 0.1
    default = parse_rubric(DEFAULT_RUBRIC).settings
    assert default.judged_as_seed and default == Settings(max_examples=50)  # the rubric's search default


def test_self_mode_rubric_cannot_promise_points_for_the_loss_value():
    with pytest.raises(RubricError, match='checks loss-value, which mode "self" does not judge'):
        parse_rubric(RUBRIC.format(function="TwoLayerNet", mode="self", max_examples=0), "r")


@pytest.mark.parametrize(
    "change, message",
    [
        ('mode = "spec"', "mode 'selfish' is not one of"),
        ('adapter = "cs231n"', "adapter 'nope' is not one of"),
        ('spec = "cs231n-two-layer"', "spec preset 'nope' is not one of"),
    ],
)
def test_bad_settings_are_one_clear_rubric_error(change, message):
    text = RUBRIC.format(function="TwoLayerNet", mode="spec", max_examples=0)
    bad = text.replace(change, change.split("=")[0] + ('= "selfish"' if "mode" in change else '= "nope"'))
    with pytest.raises(RubricError, match=message):
        parse_rubric(bad, "r")


def test_default_rubric_digest_is_unchanged_by_settings():
    rubric = parse_rubric(DEFAULT_RUBRIC)
    assert rubric.digest() == "470df9cf27efb19d"  # pinned: a change regrades every stored result
    with_settings = parse_rubric(DEFAULT_RUBRIC.replace("seed = 0\n", 'seed = 0\nmode = "both"\n', 1))
    assert with_settings.digest() == "3bac5eb5f35157c3" != rubric.digest()


def test_correct_cs231n_submission_gets_full_marks_in_the_sandbox():
    result = grade("TwoLayerNet", max_examples=3)
    assert result.score.total == result.score.max_score == 6, by_test(result)
    assert any("adapter cs231n" in w for w in result.report.warnings)


def test_buggy_cs231n_submission_loses_the_gradient_points():
    result = grade("Db2TimesN")
    scores = by_test(result)
    assert scores["Loss"] == 1 and scores["Inputs not modified"] == 1
    assert scores["Gradients"] < 4
    assert {(f.layer, f.param) for f in result.report.failures if f.check == "gradient-values"} == {(1, "b")}


def test_differently_regularised_solution_passes_in_self_mode_only():
    spec_mode = grade("HalfRegWithBiases")
    assert spec_mode.score.total < spec_mode.score.max_score
    self_mode = grade("HalfRegWithBiases", mode="self")
    assert self_mode.score.total == self_mode.score.max_score == 5, by_test(self_mode)
    both = grade("HalfRegWithBiases", mode="both")
    assert both.score.total < both.score.max_score


def test_a_buggy_solution_fails_in_self_mode_too():
    result = grade("RegOnBiases", mode="self")
    assert by_test(result)["Gradients"] < 4


def test_in_place_changes_made_in_the_sandbox_are_seen_by_the_grader(tmp_path):
    source_text = (
        CS231N.read_text()
        + """

class ShrinksWeights(TwoLayerNet):
    def loss(self, X, y=None, reg=0.0):
        result = TwoLayerNet.loss(self, X, y, reg)
        self.params["W1"] *= 0.5  # an in-place "update" of the caller's array
        return result


class ReplacesWeights(TwoLayerNet):
    def loss(self, X, y=None, reg=0.0):
        result = TwoLayerNet.loss(self, X, y, reg)
        self.params["W1"] = self.params["W1"] * 0.5  # a new array: the caller's is untouched
        return result
"""
    )
    path = tmp_path / "submission.py"
    path.write_text(source_text)
    for function, kept in (("ShrinksWeights", 0), ("ReplacesWeights", 1)):
        rubric = parse_rubric(RUBRIC.format(function=function, mode="spec", max_examples=0), "r")
        result = assess(Source(name=path.name, path=path, entry=path), rubric, limits=limits_for(rubric))
        assert by_test(result)["Inputs not modified"] == kept, function


SHAPE_RUBRIC = """
name = "shapes"
function = "{function}"
spec = "{spec}"
max_examples = 0

[adapter]
{adapter}

[sandbox]
timeout = 5
memory_mb = 512

[[tests]]
name = "Gradients"
points = 4
checks = ["gradient-count", "gradient-types", "gradient-shapes", "gradient-dtypes", "finite", "gradient-values"]
params = ["W", "b"]

[[tests]]
name = "Inputs not modified"
points = 1
checks = ["input-mutation"]
partial = false
"""
TWO_FUNCTIONS = (
    'name = "deeplearning-ai"\nargs = ["x", "params"]\nbackward = "{backward}"\n'
    'backward_args = ["forward[0]", "y", "forward[1]"]\nreturns = ["grads"]'
)
ATTRIBUTES = (
    'numpy = true\nargs = ["x", "y"]\ninstance = "bare"\nattributes = ["W", "b"]\nmethod = "backprop"\n'
    'grads_from = "attributes"\ngrad_keys = ["dW{n}", "db{n}"]\nreturns = ["loss"]'
)
STEP = 'numpy = true\ngrads_from = "step"\nlr = 0.1\nreturns = []'


@pytest.mark.parametrize(
    "file, function, spec, adapter, full",
    [
        ("two_functions.py", "forward", "deeplearning-ai", TWO_FUNCTIONS.replace("{backward}", "backward"), True),
        (
            "two_functions.py",
            "forward",
            "deeplearning-ai",
            TWO_FUNCTIONS.replace("{backward}", "backward_db1_not_averaged"),
            False,
        ),
        ("attribute_grads.py", "Network", "nielsen", ATTRIBUTES, True),
        ("attribute_grads.py", "MeanLastBias", "nielsen", ATTRIBUTES, False),
        ("sgd_step.py", "train_step", "nielsen", STEP, True),
        ("sgd_step.py", "train_step_ascends_last_bias", "nielsen", STEP, False),
    ],
)
def test_adapter_shapes_are_graded_in_the_sandbox(file, function, spec, adapter, full):
    """Two calls chained in the sandbox, gradients read from attributes there, and an in-place
    SGD step mirrored back: the grader's verdicts are the in-process ones."""
    rubric = parse_rubric(SHAPE_RUBRIC.format(function=function, spec=spec, adapter=adapter), "r")
    path = SHAPES / file
    result = assess(Source(name=path.name, path=path, entry=path), rubric, limits=limits_for(rubric))
    scores = by_test(result)
    assert scores["Inputs not modified"] == 1
    assert (scores["Gradients"] == 4) is full, [
        (f.check, f.layer, f.param, describe_failure(f)) for f in result.report.failures
    ]
    if not full:
        assert {f.param for f in result.report.failures} == {"b"}


def test_compose_adapters_are_refused_by_the_grader():
    text = SHAPE_RUBRIC.format(
        function="Linear", spec="nielsen", adapter='numpy = true\ncompose = ["Linear", "Sigmoid", "Sigmoid"]'
    )
    with pytest.raises(RubricError, match="compose adapter"):
        parse_rubric(text, "r")
